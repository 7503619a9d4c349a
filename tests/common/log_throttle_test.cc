#include "common/log_throttle.h"

#include "common/clock.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

TEST(LogThrottle, OneLinePerIntervalWithTheCountHeldBack) {
  FakeClock clock;
  LogThrottle throttle(absl::Seconds(10));
  EXPECT_EQ(throttle.Admit(clock.Now()), 0);  // the first is always logged
  for (int i = 0; i < 999; ++i) {
    clock.Advance(absl::Milliseconds(1));
    EXPECT_EQ(throttle.Admit(clock.Now()), std::nullopt);
  }
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(throttle.Admit(clock.Now()), 999);
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(throttle.Admit(clock.Now()), 0);
}

}  // namespace
}  // namespace deepsweep
