#include "worker/sleeper.h"

namespace deepsweep::worker {

void WakeSignal::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

bool WakeSignal::HasBeenNotified() const {
  absl::MutexLock lock(&mu_);
  return notified_;
}

bool WakeSignal::WaitWithTimeout(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&notified_), timeout);
}

bool WakeSignal::WaitUntilNotifiedOr(const std::atomic<bool>* due) const {
  absl::MutexLock lock(&mu_);
  auto woken = [this, due]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return notified_ || due->load(); };
  mu_.Await(absl::Condition(&woken));
  return notified_;
}

void WakeSignal::Poke() const {
  // absl::Mutex re-evaluates waiters' conditions when a holder unlocks.
  absl::MutexLock lock(&mu_);
}

}  // namespace deepsweep::worker
