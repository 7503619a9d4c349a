#include "web/metrics.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The store's health and the unfinished-trial bound reach /metrics: an
// operator's alert on a full disk reads store_writable.
TEST(PrometheusTextTest, StoreHealthAndUnfinishedTrials) {
  MetricsSnapshot snapshot;
  snapshot.unfinished_trials = 7;
  snapshot.store_health = {.writable = false,
                           .failed_writes = 3,
                           .last_error = absl::UnavailableError("database or disk is full")};
  const std::string text = PrometheusText(snapshot);
  EXPECT_THAT(text, HasSubstr("\ndeepsweep_store_writable 0\n"));
  EXPECT_THAT(text, HasSubstr("\ndeepsweep_store_failed_writes_total 3\n"));
  EXPECT_THAT(text, HasSubstr("\ndeepsweep_unfinished_trials 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE deepsweep_store_writable gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE deepsweep_store_failed_writes_total counter\n"));
  // The error's text is for the log, not a label value.
  EXPECT_THAT(text, Not(HasSubstr("disk is full")));

  snapshot.store_health = {};
  EXPECT_THAT(PrometheusText(snapshot), HasSubstr("\ndeepsweep_store_writable 1\n"));
}

}  // namespace
}  // namespace deepsweep::web
