// Backoff: how long a worker waits before retrying an unreachable coordinator.
//
// Exponential with jitter: the k-th consecutive failure (k = 0, 1, ...) waits
//   delay_k = min(max_delay, initial_delay * multiplier^k) * (1 - jitter * u_k)
// with u_k uniform on [0, 1) from the project's seeded Rng, so workers that
// lost the coordinator together do not all come back in the same instant,
// and a test with a fixed seed sees fixed delays. Reset() after a success
// starts again from initial_delay.
//
// Thread-safety: a value type; use one per thread (the worker loop and its
// report flushes share one under the loop's control).
#ifndef DEEPSWEEP_WORKER_BACKOFF_H_
#define DEEPSWEEP_WORKER_BACKOFF_H_

#include <cstdint>

#include "absl/time/time.h"
#include "ml/random.h"

namespace deepsweep::worker {

struct BackoffOptions {
  // Wait after the first failure (before jitter).
  absl::Duration initial_delay = absl::Milliseconds(250);
  // Longest wait (before jitter).
  absl::Duration max_delay = absl::Seconds(15);
  // Growth per consecutive failure, >= 1.
  double multiplier = 2.0;
  // Fraction of the delay that may be taken off at random, in [0, 1].
  double jitter = 0.5;
  // Seeds the jitter; give each worker its own (e.g. from its pid).
  uint64_t seed = 0;
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options);

  // The wait before the next retry; counts one more consecutive failure.
  absl::Duration NextDelay();
  // A call succeeded: the next failure waits initial_delay again.
  void Reset() { failures_ = 0; }
  // Consecutive failures since the last Reset().
  int failures() const { return failures_; }

 private:
  BackoffOptions options_;
  ml::Rng rng_;
  int failures_ = 0;
};

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_BACKOFF_H_
