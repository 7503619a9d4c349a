#include "ml/random.h"

#include <numbers>

namespace deepsweep::ml {
namespace {

// SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 128-bit product for Lemire's method (a GCC/Clang extension).
__extension__ using Uint128 = unsigned __int128;

constexpr uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  // Mix the stream into the seed so (seed, stream) pairs map to distinct states.
  uint64_t state = seed ^ (0xd1342543de82ef95ULL * (stream + 1));
  for (uint64_t& word : s_) word = SplitMix64(state);
}

uint64_t Rng::NextU64() {
  // xoshiro256**: result = rotl(s1 * 5, 7) * 9, then the linear state update.
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

uint64_t Rng::UniformInt(uint64_t n) {
  // Lemire: the high word of x * n is uniform on [0, n) once the low word is
  // outside the biased zone [0, 2^64 mod n).
  Uint128 m = static_cast<Uint128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<Uint128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::Normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // Box-Muller: with u1 in (0, 1], u2 in [0, 1),
  //   r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2).
  const double u1 = 1.0 - Uniform();
  const double u2 = Uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_normal_ = true;
  return r * std::cos(theta);
}

void Rng::Save(ByteWriter& out) const {
  for (uint64_t word : s_) out.U64(word);
  out.Bool(has_spare_normal_);
  out.F64(spare_normal_);
}

void Rng::Restore(ByteReader& in) {
  std::array<uint64_t, 4> s;
  for (uint64_t& word : s) word = in.U64();
  const bool has_spare = in.Bool();
  const double spare = in.F64();
  if (!in.ok()) return;
  if (s == std::array<uint64_t, 4>{}) {
    in.Fail("rng state is all zero (xoshiro256** would emit only zeros)");
    return;
  }
  s_ = s;
  has_spare_normal_ = has_spare;
  spare_normal_ = spare;
}

uint64_t DeriveSeed(uint64_t parent, uint64_t label) {
  uint64_t state = parent ^ RotateLeft(label * 0x9e3779b97f4a7c15ULL, 29);
  return SplitMix64(state);
}

}  // namespace deepsweep::ml
