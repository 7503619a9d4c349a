#include "tests/testing/fake_sleeper.h"

#include <algorithm>

namespace deepsweep::testing {

bool FakeSleeper::SleepFor(absl::Duration duration, const worker::WakeSignal& wake) {
  Parked parked;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(duration);
    if (wake.HasBeenNotified()) return true;
    if (duration < auto_below_) {
      AdvanceLocked(duration);
      return false;
    }
    parked.until = clock_->Now() + duration;
    parked.wake = &wake;
    if (parked.until <= clock_->Now()) return false;
    parked_.push_back(&parked);
  }
  const bool woken = wake.WaitUntilNotifiedOr(&parked.due);
  absl::MutexLock lock(&mu_);
  parked_.remove(&parked);
  return woken && !parked.due.load();
}

void FakeSleeper::AutoAdvanceBelow(absl::Duration threshold) {
  absl::MutexLock lock(&mu_);
  auto_below_ = threshold;
}

void FakeSleeper::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  AdvanceLocked(d);
}

void FakeSleeper::AdvanceLocked(absl::Duration d) {
  clock_->Advance(d);
  const absl::Time now = clock_->Now();
  for (Parked* p : parked_) {
    if (!p->due.load() && p->until <= now) {
      p->due.store(true);
      // Lock order: mu_, then the signal's mutex; a parked thread holds only
      // the latter while it waits.
      p->wake->Poke();
    }
  }
}

absl::Duration FakeSleeper::AdvanceToNextWake() {
  absl::MutexLock lock(&mu_);
  absl::Time earliest = absl::InfiniteFuture();
  for (const Parked* p : parked_) {
    if (!p->due.load()) earliest = std::min(earliest, p->until);
  }
  if (earliest == absl::InfiniteFuture()) return absl::ZeroDuration();
  const absl::Duration step = std::max(absl::ZeroDuration(), earliest - clock_->Now());
  AdvanceLocked(step);
  return step;
}

int FakeSleeper::ParkedCountLocked() const {
  int n = 0;
  for (const Parked* p : parked_) {
    if (!p->due.load() && !p->wake->HasBeenNotified()) ++n;
  }
  return n;
}

bool FakeSleeper::AwaitSleeping(int n) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || ParkedCountLocked() >= n;
  };
  mu_.Await(absl::Condition(&enough));
  return !closed_;
}

void FakeSleeper::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

std::vector<absl::Duration> FakeSleeper::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace deepsweep::testing
