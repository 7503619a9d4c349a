// Sleeper and WakeSignal: how the worker waits (between heartbeats, before a
// retry) so that tests can drive the waits with a fake clock instead of time.
//
// Every wait is for a duration or until a WakeSignal fires, whichever comes
// first: shutdown wakes the loop's backoff waits at once, and the end of a
// trial wakes its heartbeat thread. RealSleeper waits in real time;
// tests/testing/fake_sleeper.h waits until a test advances its FakeClock.
//
// Thread-safety: WakeSignal and RealSleeper are safe for concurrent use.
#ifndef DEEPSWEEP_WORKER_SLEEPER_H_
#define DEEPSWEEP_WORKER_SLEEPER_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace deepsweep::worker {

// A one-shot event that wakes the threads waiting on it.
class WakeSignal {
 public:
  // Fires the signal; every current and later wait on it returns at once.
  void Notify();
  bool HasBeenNotified() const;

  // For Sleeper implementations. Blocks until notified or `timeout` passes;
  // returns true when notified.
  bool WaitWithTimeout(absl::Duration timeout) const;
  // Blocks until notified or `*due` is true; `*due` is re-read whenever
  // Poke() is called. Returns true when notified.
  bool WaitUntilNotifiedOr(const std::atomic<bool>* due) const;
  // Makes waiters of WaitUntilNotifiedOr re-read their `due` flag.
  void Poke() const;

 private:
  mutable absl::Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits for `duration` or until `wake` fires; returns true when woken by
  // `wake` (including when it had fired before the call).
  virtual bool SleepFor(absl::Duration duration, const WakeSignal& wake) = 0;
};

// Waits in real time.
class RealSleeper final : public Sleeper {
 public:
  bool SleepFor(absl::Duration duration, const WakeSignal& wake) override {
    return wake.WaitWithTimeout(duration);
  }
};

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_SLEEPER_H_
