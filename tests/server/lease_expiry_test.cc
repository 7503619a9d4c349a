// Lease expiry through the server with a FakeClock: no sleeping.
#include <memory>

#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using testing::LoopbackOptions;
using testing::TestWorker;

TEST(LeaseExpiryTest, ExpiredLeaseIsAbortedAndItsTrialHandedOutAgain) {
  FakeClock clock;
  Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
  options.clock = &clock;
  options.coordinator.lease_ttl = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<rpc::CoordinatorClient> client = Connect((*server)->port());
  ASSERT_TRUE(client->CreateSweep("name: one\nlimits: {max_attempts: 3}\n").ok());

  absl::StatusOr<Acquisition> zombie = client->AcquireTrial(TestWorker("zombie"));
  ASSERT_TRUE(zombie.ok() && zombie->trial.has_value()) << zombie.status();
  EXPECT_EQ(zombie->lease->deadline, clock.Now() + absl::Seconds(30));

  clock.Advance(absl::Seconds(31));
  absl::StatusOr<Acquisition> fresh = client->AcquireTrial(TestWorker("fresh"));
  ASSERT_TRUE(fresh.ok() && fresh->trial.has_value()) << fresh.status();
  EXPECT_EQ(fresh->trial->id, zombie->trial->id);
  EXPECT_EQ(fresh->lease->attempt, 2);
  EXPECT_NE(fresh->lease->lease_id, zombie->lease->lease_id);

  // The zombie's calls change nothing.
  EXPECT_EQ(client->RenewLease(zombie->trial->id, zombie->lease->lease_id).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(client
                ->CompleteTrial(zombie->trial->id, zombie->lease->lease_id,
                                {.state = TrialState::kSucceeded})
                .code(),
            absl::StatusCode::kAborted);
  absl::StatusOr<TrialRecord> trial = client->GetTrial(fresh->trial->id);
  ASSERT_TRUE(trial.ok());
  EXPECT_EQ(trial->state, TrialState::kLeased);
  EXPECT_EQ(trial->worker_id, "fresh");
}

}  // namespace
}  // namespace deepsweep::server
