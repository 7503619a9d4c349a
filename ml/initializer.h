// Initializer: weight initializations from their formulas, drawn from the
// project's Rng so a (seed, shape, init) gives the same bits everywhere.
//
// W is fan_out x fan_in (s = W a). With n_in = fan_in, n_out = fan_out:
//   name           distribution                                  Var[W_ij]
//   standard       U[-1/sqrt(n_in), 1/sqrt(n_in)]   (paper Eq. 1)  1 / (3 n_in)
//   normalized     U[-sqrt(6/(n_in+n_out)), +...]   (paper Eq. 16) 2 / (n_in + n_out)
//   glorot_normal  N(0, 2/(n_in+n_out))                            2 / (n_in + n_out)
//   lecun_uniform  U[-sqrt(3/n_in), +sqrt(3/n_in)]                  1 / n_in
//   lecun_normal   N(0, 1/n_in)                                     1 / n_in
//   he_uniform     U[-sqrt(6/n_in), +sqrt(6/n_in)]                  2 / n_in
//   he_normal      N(0, 2/n_in)                                     2 / n_in
//   orthogonal     Q of the QR of a Gaussian matrix, columns'       1 / max(n_in, n_out)
//                  signs fixed by sign(diag R) (Saxe et al. 2013);  (singular values all 1)
// Every init is then multiplied by `gain` (default 1), so Var scales by gain^2
// and orthogonal singular values equal gain. Biases are set to 0 by the caller.
//
// Draw order: column-major (W(0,0), W(1,0), ...), one Rng draw per weight for
// the uniform and normal inits; computed in double, then rounded to Scalar, so
// float and double nets from one seed hold the same weights up to rounding.
//
// Thread-safety: pure functions of their arguments (the Rng is the caller's).
#ifndef DEEPSWEEP_ML_INITIALIZER_H_
#define DEEPSWEEP_ML_INITIALIZER_H_

#include <string_view>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "ml/random.h"

namespace deepsweep::ml {

enum class Init {
  kStandard,
  kNormalized,
  kGlorotNormal,
  kLecunUniform,
  kLecunNormal,
  kHeUniform,
  kHeNormal,
  kOrthogonal,
};

// "standard", "normalized", "glorot_normal", "lecun_uniform", "lecun_normal",
// "he_uniform", "he_normal", "orthogonal".
std::string_view InitName(Init init);
// InvalidArgument naming the valid names when `name` is none of them.
absl::StatusOr<Init> ParseInit(std::string_view name);

// Var[W_ij] the init produces (the table above, times gain^2).
double InitVariance(Init init, int fan_in, int fan_out, double gain = 1.0);

// Fills w (fan_out x fan_in) with fresh draws from rng.
template <typename Scalar>
void InitializeWeights(Init init, double gain, Rng& rng,
                       Eigen::Ref<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> w);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_INITIALIZER_H_
