#include "common/log_throttle.h"

namespace deepsweep {

std::optional<int64_t> LogThrottle::Admit(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (last_.has_value() && now - *last_ < interval_) {
    ++suppressed_;
    return std::nullopt;
  }
  last_ = now;
  const int64_t suppressed = suppressed_;
  suppressed_ = 0;
  return suppressed;
}

}  // namespace deepsweep
