#include "common/clock.h"

namespace deepsweep {

SystemClock* SystemClock::Default() {
  static SystemClock* const clock = new SystemClock();
  return clock;
}

}  // namespace deepsweep
