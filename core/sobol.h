// SobolSequence: the Sobol low-discrepancy sequence in up to kMaxDimensions
// dimensions, for quasi-random sweep search (`random: {method: sobol}`).
//
// Point n (n = 0, 1, 2, ...) in dimension j is the 32-bit fraction
//   x_n,j = g_1 v_1,j XOR g_2 v_2,j XOR ...,   g = n XOR (n >> 1) (Gray code),
// computed incrementally (Antonov & Saleev, 1979): x_n = x_(n-1) XOR v_c, where
// c is the position of the lowest zero bit of n - 1. The direction numbers
// v_i,j = m_i,j / 2^i come from the primitive polynomial of degree s_j with
// coefficients a_j and the initial m_1..m_s_j of Joe & Kuo's table
// new-joe-kuo-6.21201 (S. Joe and F. Y. Kuo, "Constructing Sobol sequences
// with better two-dimensional projections", SIAM J. Sci. Comput. 30,
// 2635-2654, 2008; table at https://web.maths.unsw.edu.au/~fkuo/sobol/), with
// the recurrence
//   m_i = 2 a_1 m_(i-1) XOR 4 a_2 m_(i-2) XOR ... XOR 2^s m_(i-s) XOR m_(i-s)
// for i > s. Dimension 1 is van der Corput's sequence (every m_i = 1).
//
// The unshifted sequence starts 0, 1/2, 3/4, 1/4, 3/8, ... in dimension 1 and
// 0, 1/2, 1/4, 3/4, 3/8, ... in dimension 2. A digital shift (XOR of every
// coordinate with a fixed 32-bit word per dimension) keeps the sequence's
// net structure and lets a seed choose among equally good sequences.
//
// Deterministic: integer arithmetic only; the same points on every machine.
// Thread-safety: a value; use one per thread.
#ifndef DEEPSWEEP_CORE_SOBOL_H_
#define DEEPSWEEP_CORE_SOBOL_H_

#include <array>
#include <cstdint>
#include <vector>

namespace deepsweep {

class SobolSequence {
 public:
  // Dimensions with direction numbers here (every sweep axis fits).
  static constexpr int kMaxDimensions = 24;
  // 2^32 points; Next() starts over after the last.
  static constexpr int kBits = 32;

  // 1 <= dimensions <= kMaxDimensions. `shift` holds one 32-bit word per
  // dimension (missing words are 0: no shift).
  explicit SobolSequence(int dimensions, const std::vector<uint32_t>& shift = {});

  // The next point, each coordinate in [0, 1).
  std::vector<double> Next();
  int dimensions() const { return static_cast<int>(directions_.size()); }

 private:
  std::vector<std::array<uint32_t, kBits>> directions_;  // v_i,j << (32 - i)
  std::vector<uint32_t> shift_;
  std::vector<uint32_t> x_;  // the last point, unshifted
  uint64_t index_ = 0;       // points returned so far
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SOBOL_H_
