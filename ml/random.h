// Rng: the project's own pseudo-random generator and distributions.
//
// Every random draw in deepsweep (weights, data order, Shapeset images, probe
// sets) comes from an Rng seeded from the trial seed. The generator is
// xoshiro256** (Blackman & Vigna), seeded through SplitMix64; the distributions
// are written here rather than taken from <random>, whose distributions differ
// between standard libraries. Same seed + same binary = same bits.
//
// Independent streams: Rng(seed, stream) gives statistically independent
// sequences for different `stream` values (e.g. one for weights, one for data
// order), so adding draws to one consumer never shifts another.
//
// Thread-safety: an Rng is a value; use one per thread.
#ifndef DEEPSWEEP_ML_RANDOM_H_
#define DEEPSWEEP_ML_RANDOM_H_

#include <array>
#include <cmath>
#include <cstdint>

#include "common/byte_codec.h"

namespace deepsweep::ml {

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0);

  // Next raw 64-bit value.
  uint64_t NextU64();
  // Uniform double in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
  // Uniform double in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
  uint64_t UniformInt(uint64_t n);
  // Standard normal N(0, 1) by the Box-Muller transform (pairs are cached).
  double Normal();
  // N(mean, stddev^2).
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }

  // The complete generator state (xoshiro words and the cached normal), for
  // snapshots: Restore(Save()) continues the same sequence. Restore records a
  // malformed state in `in` and leaves the generator unchanged then.
  void Save(ByteWriter& out) const;
  void Restore(ByteReader& in);

  // Fisher-Yates shuffle of [first, last).
  template <typename It>
  void Shuffle(It first, It last) {
    const auto n = last - first;
    for (auto i = n - 1; i > 0; --i) {
      const auto j = static_cast<decltype(i)>(UniformInt(static_cast<uint64_t>(i) + 1));
      std::swap(first[i], first[j]);
    }
  }

 private:
  std::array<uint64_t, 4> s_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Derives a child seed from a parent seed and a label, e.g. a per-trial seed
// from (sweep seed, trial index). SplitMix64 finalizer of the mixed pair.
uint64_t DeriveSeed(uint64_t parent, uint64_t label);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_RANDOM_H_
