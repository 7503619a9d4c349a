// SplitMix64 (Steele, Lea & Flood, 2014): the small deterministic generator
// the coordinator uses to sample sweep axes and derive trial seeds (never for
// secrets: lease ids come from common/secure_random.h). core/ must not depend
// on ml/, whose Rng serves training.
//
// Same seed = same sequence on every platform: only integer arithmetic, and
// the distributions below are written here rather than taken from <random>.
//
// Thread-safety: a value; use one per thread.
#ifndef DEEPSWEEP_CORE_SPLITMIX64_H_
#define DEEPSWEEP_CORE_SPLITMIX64_H_

#include <cstdint>

namespace deepsweep {

__extension__ typedef unsigned __int128 Uint128;  // g++ extension; silences -Wpedantic

// The SplitMix64 output function: a bijective 64-bit mix.
constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  // Uniform in [0, 1) with 53 random bits.
  double NextUnit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n) for n > 0, without modulo bias (Lemire, 2019):
  // the high word of x * n is uniform once low words below 2^64 mod n are
  // rejected.
  uint64_t NextBelow(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    while (true) {
      const Uint128 m = static_cast<Uint128>(Next()) * n;
      if (static_cast<uint64_t>(m) >= threshold) return static_cast<uint64_t>(m >> 64);
    }
  }

 private:
  uint64_t state_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SPLITMIX64_H_
