// Activation: the hidden-unit nonlinearities f, their derivatives f', and what
// "saturated" means for each (the statistic LayerProbe reports).
//
//   name        f(s)                         f'(s)                 saturated when
//   sigmoid     1 / (1 + e^-s)               f (1 - f)             f < 0.02 or f > 0.98
//   tanh        tanh s                       1 - f^2               |f| > 0.98
//   softsign    s / (1 + |s|)                1 / (1 + |s|)^2       |f| > 0.98
//   relu        max(s, 0)                    [s > 0]               f == 0 (dead)
//   leaky_relu  s > 0 ? s : 0.01 s           s > 0 ? 1 : 0.01      s <= 0 (the 0.01 side)
//   elu         s > 0 ? s : e^s - 1          s > 0 ? 1 : f + 1     f < -0.98
//   selu        L (s > 0 ? s : A (e^s - 1))  s > 0 ? L : f + L A   f < -0.98 L A
//   gelu        s Phi(s)                     Phi(s) + s phi(s)     |f'(s)| < 0.02
//   identity    s                            1                     never
// with Phi(s) = (1 + erf(s / sqrt 2)) / 2, phi its density,
//      L = 1.0507009873554805, A = 1.6732632423543772 (Klambauer et al. 2017).
//
// Saturation is "within 2% of an asymptote, measured on the output": for the
// bounded sigmoid/tanh/softsign that is the paper's notion (tanh at +-0.98 has
// f' = 0.04). Softsign approaches +-1 only polynomially, so it needs |s| > 49 to
// count: the paper's observation that softsign units sit at the knees rather
// than saturating shows up as a low fraction. For relu-like units the fraction
// is the dead (zero-gradient) or low-slope side; gelu uses its flat tail.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_ML_ACTIVATION_H_
#define DEEPSWEEP_ML_ACTIVATION_H_

#include <optional>
#include <string_view>
#include <utility>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace deepsweep::ml {

enum class Activation {
  kSigmoid,
  kTanh,
  kSoftsign,
  kRelu,
  kLeakyRelu,
  kElu,
  kSelu,
  kGelu,
  kIdentity,
};

// "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "elu", "selu", "gelu",
// "identity".
std::string_view ActivationName(Activation f);
// InvalidArgument naming the valid names when `name` is none of them.
absl::StatusOr<Activation> ParseActivation(std::string_view name);

// The range [lo, hi] of f when it is bounded on both sides (sigmoid, tanh,
// softsign); nullopt otherwise.
std::optional<std::pair<double, double>> BoundedRange(Activation f);

template <typename Scalar>
using ActivationMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// a = f(s), elementwise; a may be s itself (in-place).
template <typename Scalar>
void ApplyActivation(Activation f, const Eigen::Ref<const ActivationMatrix<Scalar>>& s,
                     Eigen::Ref<ActivationMatrix<Scalar>> a);

// g = g * f'(s), elementwise, given s and a = f(s) (backprop through f).
template <typename Scalar>
void MultiplyByDerivative(Activation f, const Eigen::Ref<const ActivationMatrix<Scalar>>& s,
                          const Eigen::Ref<const ActivationMatrix<Scalar>>& a,
                          Eigen::Ref<ActivationMatrix<Scalar>> g);

// f'(s) for one unit, given s and a = f(s).
double Derivative(Activation f, double s, double a);

// Whether one unit is saturated, by the table above.
bool IsSaturated(Activation f, double s, double a);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_ACTIVATION_H_
