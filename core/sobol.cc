#include "core/sobol.h"

#include <cassert>
#include <cstddef>

namespace deepsweep {
namespace {

// One row of Joe & Kuo's new-joe-kuo-6.21201 (dimensions 2 onwards): the
// degree s of the primitive polynomial, its inner coefficients a (bit k - 1
// from the top is a_k) and the initial direction integers m_1..m_s.
struct DirectionRow {
  int s;
  uint32_t a;
  std::array<uint32_t, 7> m;
};

// Dimensions 2 .. SobolSequence::kMaxDimensions, in order.
constexpr std::array<DirectionRow, SobolSequence::kMaxDimensions - 1> kJoeKuo = {{
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
    {7, 7, {1, 1, 3, 13, 7, 35, 63}},
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},
    {7, 14, {1, 3, 1, 13, 9, 35, 107}},
}};

using Directions = std::array<uint32_t, SobolSequence::kBits>;

// V_i = m_i 2^(32 - i), i = 1..32 (stored at i - 1).
Directions DirectionsOf(int dimension) {
  Directions v{};
  if (dimension == 0) {
    for (int i = 0; i < SobolSequence::kBits; ++i) v[i] = uint32_t{1} << (31 - i);
    return v;
  }
  const DirectionRow& row = kJoeKuo[dimension - 1];
  const int s = row.s;
  for (int i = 0; i < s; ++i) v[i] = row.m[i] << (31 - i);
  // In shifted form the recurrence reads
  //   V_i = a_1 V_(i-1) ^ ... ^ a_(s-1) V_(i-s+1) ^ V_(i-s) ^ (V_(i-s) >> s).
  for (int i = s; i < SobolSequence::kBits; ++i) {
    uint32_t next = v[i - s] ^ (v[i - s] >> s);
    for (int k = 1; k < s; ++k) {
      if ((row.a >> (s - 1 - k)) & 1) next ^= v[i - k];
    }
    v[i] = next;
  }
  return v;
}

}  // namespace

SobolSequence::SobolSequence(int dimensions, const std::vector<uint32_t>& shift)
    : shift_(shift), x_(dimensions, 0) {
  assert(dimensions >= 1 && dimensions <= kMaxDimensions);
  for (int j = 0; j < dimensions; ++j) directions_.push_back(DirectionsOf(j));
  shift_.resize(dimensions, 0);
}

std::vector<double> SobolSequence::Next() {
  // Point 0 is the origin; point n flips the direction of the lowest zero
  // bit of n - 1.
  if (index_ % (uint64_t{1} << kBits) == 0) {
    for (uint32_t& x : x_) x = 0;
  } else {
    uint64_t n = index_ - 1;
    int c = 0;
    while (n & 1) {
      n >>= 1;
      ++c;
    }
    for (size_t j = 0; j < x_.size(); ++j) x_[j] ^= directions_[j][c];
  }
  ++index_;
  std::vector<double> point(x_.size());
  for (size_t j = 0; j < x_.size(); ++j) point[j] = (x_[j] ^ shift_[j]) * 0x1.0p-32;
  return point;
}

}  // namespace deepsweep
