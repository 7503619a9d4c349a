// LogThrottle: at most one log line per interval for an event that an
// untrusted peer can repeat at will (failed logins, refused connections), so
// the log cannot be flooded; the admitted line reports how many were held back.
//
// Time comes from the caller (`now`), so tests drive it with a FakeClock.
//
// Thread-safety: safe for concurrent use.
#ifndef DEEPSWEEP_COMMON_LOG_THROTTLE_H_
#define DEEPSWEEP_COMMON_LOG_THROTTLE_H_

#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace deepsweep {

class LogThrottle {
 public:
  explicit LogThrottle(absl::Duration interval) : interval_(interval) {}

  // Records one event at `now`. Returns the number of events suppressed since
  // the last admitted one when this one should be logged (the first event,
  // then the first after each `interval`), nullopt when it should not.
  std::optional<int64_t> Admit(absl::Time now);

 private:
  const absl::Duration interval_;
  absl::Mutex mu_;
  std::optional<absl::Time> last_ ABSL_GUARDED_BY(mu_);
  int64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_LOG_THROTTLE_H_
