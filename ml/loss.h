// Loss: the output layer's cost on softmax probabilities.
//
// For logits o (one column per example), p = softmax(o), target class y and
// one-hot t:
//   nll        L = -log p_y                 dL/do = p - t
//   quadratic  L = 1/2 sum_k (p_k - t_k)^2  dL/do_j = p_j (e_j - sum_k p_k e_k), e = p - t
// The quadratic cost is the paper's contrast (Fig. 5): it keeps the softmax
// output and replaces only the cost, so its plateaus come from the cost alone.
// Softmax is computed with the column maximum subtracted (no overflow).
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_ML_LOSS_H_
#define DEEPSWEEP_ML_LOSS_H_

#include <cstdint>
#include <string_view>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace deepsweep::ml {

enum class Loss { kNll, kQuadratic };

// "nll", "quadratic".
std::string_view LossName(Loss loss);
// InvalidArgument naming the valid names when `name` is neither.
absl::StatusOr<Loss> ParseLoss(std::string_view name);

// Sums over the columns of one batch.
struct BatchLoss {
  double loss = 0;     // sum of the chosen loss
  double nll = 0;      // sum of -log p_y, whatever the loss
  int64_t errors = 0;  // columns whose argmax (first on ties) differs from y
};

// Evaluates the loss of every column of `logits` against `labels` (one per
// column, each in [0, logits.rows())). When `grad` is non-null it receives
// grad_scale * dL/do (same shape as logits; may not alias it).
template <typename Scalar>
BatchLoss EvaluateLoss(
    Loss loss,
    const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>& logits,
    const int32_t* labels, Scalar grad_scale,
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>* grad);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_LOSS_H_
