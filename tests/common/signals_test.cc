// A termination signal reaches the thread that waits for it.
#include "common/signals.h"

#include <csignal>

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

TEST(SignalsTest, SigtermIsDeliveredToTheWaiter) {
  ASSERT_TRUE(InstallTerminationHandlers().ok());
  EXPECT_FALSE(WaitForTerminationSignal(absl::ZeroDuration()).has_value());
  ASSERT_EQ(raise(SIGTERM), 0);  // the handler runs before raise returns
  EXPECT_EQ(WaitForTerminationSignal(absl::ZeroDuration()), SIGTERM);
  EXPECT_FALSE(WaitForTerminationSignal(absl::ZeroDuration()).has_value());
}

}  // namespace
}  // namespace deepsweep
