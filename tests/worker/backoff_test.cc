#include "worker/backoff.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace deepsweep::worker {
namespace {

BackoffOptions Options(double jitter, uint64_t seed = 1) {
  return BackoffOptions{.initial_delay = absl::Milliseconds(100),
                        .max_delay = absl::Seconds(1),
                        .multiplier = 2.0,
                        .jitter = jitter,
                        .seed = seed};
}

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  Backoff backoff(Options(0.0));
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(backoff.NextDelay());
  const std::vector<absl::Duration> expected = {absl::Milliseconds(100), absl::Milliseconds(200),
                                                absl::Milliseconds(400), absl::Milliseconds(800),
                                                absl::Seconds(1),        absl::Seconds(1)};
  EXPECT_EQ(delays, expected);
  EXPECT_EQ(backoff.failures(), 6);
}

TEST(Backoff, JitterTakesOffAtMostItsFraction) {
  Backoff backoff(Options(0.5));
  double base = 0.1;
  bool any_below_base = false;
  for (int i = 0; i < 200; ++i) {
    const double d = absl::ToDoubleSeconds(backoff.NextDelay());
    EXPECT_GE(d, 0.5 * base - 1e-12) << "failure " << i;
    EXPECT_LE(d, base + 1e-12) << "failure " << i;
    any_below_base |= d < base * 0.99;
    base = std::min(1.0, base * 2);
  }
  EXPECT_TRUE(any_below_base);
}

TEST(Backoff, SameSeedSameDelaysOtherSeedOthers) {
  Backoff a(Options(0.5, 7)), b(Options(0.5, 7)), c(Options(0.5, 8));
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    const absl::Duration da = a.NextDelay();
    EXPECT_EQ(da, b.NextDelay());
    differs |= da != c.NextDelay();
  }
  EXPECT_TRUE(differs);
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(Options(0.0));
  backoff.NextDelay();
  backoff.NextDelay();
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(100));
}

TEST(Backoff, ManyFailuresStayAtTheCap) {
  Backoff backoff(Options(0.0));
  for (int i = 0; i < 5000; ++i) backoff.NextDelay();
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(1));
}

}  // namespace
}  // namespace deepsweep::worker
