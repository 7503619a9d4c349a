// FakeSleeper: a worker::Sleeper whose waits end when a test moves a
// FakeClock, so tests of heartbeats and backoff never sleep.
//
// A wait of d that starts at fake time t ends when the clock reaches t + d
// (through Advance or AdvanceToNextWake) or when its WakeSignal fires. Waits
// shorter than the auto-advance threshold (AutoAdvanceBelow) end at once and
// move the clock by their length themselves, waking longer waits that come
// due; so a test can let backoff retries run freely while heartbeats stay
// parked until it advances time.
//
// Every requested duration is recorded. AwaitSleeping(n) blocks until n
// threads are parked in a wait (or Close() says the threads under test are
// done): an event, not a timeout.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef DEEPSWEEP_TESTS_TESTING_FAKE_SLEEPER_H_
#define DEEPSWEEP_TESTS_TESTING_FAKE_SLEEPER_H_

#include <atomic>
#include <list>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "worker/sleeper.h"

namespace deepsweep::testing {

class FakeSleeper final : public worker::Sleeper {
 public:
  // `clock` must outlive the sleeper; only this sleeper should advance it
  // while threads wait on it.
  explicit FakeSleeper(FakeClock* clock) : clock_(clock) {}

  bool SleepFor(absl::Duration duration, const worker::WakeSignal& wake) override;

  // Waits shorter than `threshold` end at once (default: none do).
  void AutoAdvanceBelow(absl::Duration threshold);
  // Moves the clock and ends the waits that come due.
  void Advance(absl::Duration d);
  // Moves the clock to the end of the earliest parked wait and returns how
  // far it moved (zero when nothing is parked).
  absl::Duration AdvanceToNextWake();
  // Blocks until at least `n` waits are parked (returns true) or Close() was
  // called (returns false).
  bool AwaitSleeping(int n);
  // Ends every AwaitSleeping, now and later: the threads under test are done.
  void Close();
  // Every duration asked for, in order.
  std::vector<absl::Duration> requests() const;

 private:
  struct Parked {
    absl::Time until;
    const worker::WakeSignal* wake;
    std::atomic<bool> due{false};
  };
  void AdvanceLocked(absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int ParkedCountLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FakeClock* const clock_;
  mutable absl::Mutex mu_;
  absl::Duration auto_below_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::list<Parked*> parked_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<absl::Duration> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_FAKE_SLEEPER_H_
