#include "common/clock.h"

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(2.5));
  EXPECT_EQ(clock.Now(), absl::FromUnixMillis(102'500));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(SystemClock, IsMonotonicEnoughAndNearAbslNow) {
  const absl::Time a = SystemClock::Default()->Now();
  const absl::Time b = absl::Now();
  EXPECT_LE(a, b);
  EXPECT_LT(b - a, absl::Minutes(1));
}

}  // namespace
}  // namespace deepsweep
