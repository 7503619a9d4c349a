#include "worker/backoff.h"

#include <algorithm>
#include <cmath>

namespace deepsweep::worker {
namespace {

// Rng stream of the jitter draws (ASCII "backoff").
constexpr uint64_t kJitterStream = 0x6261636b6f6666;

}  // namespace

Backoff::Backoff(BackoffOptions options) : options_(options), rng_(options.seed, kJitterStream) {
  options_.multiplier = std::max(1.0, options_.multiplier);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
}

absl::Duration Backoff::NextDelay() {
  const double initial = absl::ToDoubleSeconds(options_.initial_delay);
  const double cap = absl::ToDoubleSeconds(options_.max_delay);
  // initial * multiplier^k overflows to inf for large k, which min() then caps.
  const double base = std::min(cap, initial * std::pow(options_.multiplier, failures_));
  ++failures_;
  return absl::Seconds(base * (1.0 - options_.jitter * rng_.Uniform()));
}

}  // namespace deepsweep::worker
