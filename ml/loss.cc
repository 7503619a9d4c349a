#include "ml/loss.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deepsweep::ml {

std::string_view LossName(Loss loss) {
  switch (loss) {
    case Loss::kNll:
      return "nll";
    case Loss::kQuadratic:
      return "quadratic";
  }
  return "unknown";
}

absl::StatusOr<Loss> ParseLoss(std::string_view name) {
  for (Loss loss : {Loss::kNll, Loss::kQuadratic}) {
    if (name == LossName(loss)) return loss;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown loss '", std::string(name), "'; valid: nll, quadratic"));
}

template <typename Scalar>
BatchLoss EvaluateLoss(
    Loss loss,
    const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>& logits,
    const int32_t* labels, Scalar grad_scale,
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>* grad) {
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Index classes = logits.rows(), n = logits.cols();
  if (grad != nullptr) grad->resize(classes, n);
  BatchLoss out;
  Vector p(classes), e(classes);
  for (Eigen::Index j = 0; j < n; ++j) {
    const auto o = logits.col(j);
    const int32_t y = labels[j];
    Eigen::Index argmax = 0;
    const Scalar max = o.maxCoeff(&argmax);
    // p = exp(o - max) / Z; -log p_y = log Z + max - o_y.
    p = (o.array() - max).exp();
    const Scalar z = p.sum();
    p /= z;
    const double nll = std::log(static_cast<double>(z)) + static_cast<double>(max - o(y));
    out.nll += nll;
    out.errors += argmax != y;
    if (loss == Loss::kNll) {
      out.loss += nll;
      if (grad != nullptr) {
        grad->col(j) = grad_scale * p;
        (*grad)(y, j) -= grad_scale;
      }
    } else {
      // e = p - t; dL/do = p .* (e - p.e).
      e = p;
      e(y) -= Scalar(1);
      out.loss += 0.5 * static_cast<double>(e.squaredNorm());
      if (grad != nullptr) {
        const Scalar dot = p.dot(e);
        grad->col(j) = grad_scale * (p.array() * (e.array() - dot)).matrix();
      }
    }
  }
  return out;
}

template BatchLoss EvaluateLoss<float>(Loss, const Eigen::Ref<const Eigen::MatrixXf>&,
                                       const int32_t*, float, Eigen::MatrixXf*);
template BatchLoss EvaluateLoss<double>(Loss, const Eigen::Ref<const Eigen::MatrixXd>&,
                                        const int32_t*, double, Eigen::MatrixXd*);

}  // namespace deepsweep::ml
