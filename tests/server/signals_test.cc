// SIGINT ends ServeUntilSignal with a graceful shutdown.
#include "common/signals.h"

#include <csignal>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

TEST(SignalsTest, ServeUntilSignalShutsDownOnSigint) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(testing::LoopbackOptions(testing::FreshDirectory() / "db.sqlite"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<rpc::CoordinatorClient> client = testing::Connect((*server)->port());
  ASSERT_TRUE(client->ListSweeps().ok());
  ASSERT_TRUE(InstallTerminationHandlers().ok());

  std::thread serving([&] { (*server)->ServeUntilSignal(); });
  ASSERT_EQ(raise(SIGINT), 0);
  serving.join();  // returns only after the shutdown completed
  EXPECT_EQ(client->ListSweeps().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace deepsweep::server
