#include "ml/initializer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "Eigen/QR"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deepsweep::ml {
namespace {

constexpr Init kAll[] = {
    Init::kStandard,    Init::kNormalized, Init::kGlorotNormal, Init::kLecunUniform,
    Init::kLecunNormal, Init::kHeUniform,  Init::kHeNormal,     Init::kOrthogonal,
};

bool IsUniform(Init init) {
  return init == Init::kStandard || init == Init::kNormalized || init == Init::kLecunUniform ||
         init == Init::kHeUniform;
}

// An m x n matrix with orthonormal columns (m >= n) or rows (m < n):
// G (max x min) Gaussian, G = QR, Q * diag(sign(diag R)) makes the result
// distributed uniformly (Haar) rather than biased by the QR convention.
Eigen::MatrixXd Orthogonal(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  const Eigen::Index tall = std::max(rows, cols), narrow = std::min(rows, cols);
  Eigen::MatrixXd g(tall, narrow);
  for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] = rng.Normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(tall, narrow);
  for (Eigen::Index j = 0; j < narrow; ++j) {
    if (qr.matrixQR()(j, j) < 0) q.col(j) = -q.col(j);
  }
  if (rows >= cols) return q;
  return q.transpose();
}

}  // namespace

std::string_view InitName(Init init) {
  switch (init) {
    case Init::kStandard:
      return "standard";
    case Init::kNormalized:
      return "normalized";
    case Init::kGlorotNormal:
      return "glorot_normal";
    case Init::kLecunUniform:
      return "lecun_uniform";
    case Init::kLecunNormal:
      return "lecun_normal";
    case Init::kHeUniform:
      return "he_uniform";
    case Init::kHeNormal:
      return "he_normal";
    case Init::kOrthogonal:
      return "orthogonal";
  }
  return "unknown";
}

absl::StatusOr<Init> ParseInit(std::string_view name) {
  std::string valid;
  for (Init init : kAll) {
    if (name == InitName(init)) return init;
    absl::StrAppend(&valid, valid.empty() ? "" : ", ", std::string(InitName(init)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown init '", std::string(name), "'; valid: ", valid));
}

double InitVariance(Init init, int fan_in, int fan_out, double gain) {
  const double n_in = fan_in, n_out = fan_out, g2 = gain * gain;
  switch (init) {
    case Init::kStandard:
      return g2 / (3.0 * n_in);
    case Init::kNormalized:
    case Init::kGlorotNormal:
      return g2 * 2.0 / (n_in + n_out);
    case Init::kLecunUniform:
    case Init::kLecunNormal:
      return g2 / n_in;
    case Init::kHeUniform:
    case Init::kHeNormal:
      return g2 * 2.0 / n_in;
    case Init::kOrthogonal:
      return g2 / std::max(n_in, n_out);
  }
  return 0.0;
}

template <typename Scalar>
void InitializeWeights(Init init, double gain, Rng& rng,
                       Eigen::Ref<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> w) {
  const int fan_out = static_cast<int>(w.rows()), fan_in = static_cast<int>(w.cols());
  if (init == Init::kOrthogonal) {
    w = (gain * Orthogonal(fan_out, fan_in, rng)).template cast<Scalar>();
    return;
  }
  // Var = 1/(3 n_in) etc.: a uniform U[-r, r] has Var r^2 / 3, so r = sqrt(3 Var);
  // a normal has stddev sqrt(Var).
  const double var = InitVariance(init, fan_in, fan_out, gain);
  const bool uniform = IsUniform(init);
  const double r = std::sqrt(3.0 * var), sd = std::sqrt(var);
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      w(i, j) = static_cast<Scalar>(uniform ? rng.Uniform(-r, r) : sd * rng.Normal());
    }
  }
}

template void InitializeWeights<float>(Init, double, Rng&, Eigen::Ref<Eigen::MatrixXf>);
template void InitializeWeights<double>(Init, double, Rng&, Eigen::Ref<Eigen::MatrixXd>);

}  // namespace deepsweep::ml
