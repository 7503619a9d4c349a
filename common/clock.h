// Clock: the one source of "now" for decision code (leases, backoff, ETAs).
//
// Code that decides by time takes a Clock (or a `now` parameter) so tests can
// drive time with FakeClock instead of sleeping.
//
// Thread-safety: every implementation here is safe for concurrent use.
#ifndef DEEPSWEEP_COMMON_CLOCK_H_
#define DEEPSWEEP_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace deepsweep {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time Now() const = 0;
};

// Real time from the operating system.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance; never destroyed.
  static SystemClock* Default();
};

// Time that moves only when a test says so.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_CLOCK_H_
