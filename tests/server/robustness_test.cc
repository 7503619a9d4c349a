// Oversized and malformed requests get a clear error and the server stays up.
#include <memory>
#include <string>

#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/conversions.h"
#include "tests/server/health_probe.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using ::testing::HasSubstr;
using testing::LoopbackOptions;

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
    options.max_message_bytes = 64 << 10;
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = Connect(server_->port());
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::CoordinatorService::NewStub(channel_);
  }

  // The server still answers real work.
  void ExpectStillServing() {
    EXPECT_TRUE(testing::IsServing(channel_));
    absl::StatusOr<SweepRecord> sweep = client_->CreateSweep(testing::kThreeTrialSpec);
    EXPECT_TRUE(sweep.ok()) << sweep.status();
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<rpc::CoordinatorClient> client_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CoordinatorService::Stub> stub_;
};

TEST_F(RobustnessTest, OversizedRequestIsResourceExhausted) {
  const std::string huge =
      absl::StrCat(testing::kThreeTrialSpec, "# ", std::string(100 << 10, 'x'), "\n");
  absl::StatusOr<SweepRecord> sweep = client_->CreateSweep(huge);
  EXPECT_EQ(sweep.status().code(), absl::StatusCode::kResourceExhausted) << sweep.status();
  ExpectStillServing();
}

TEST_F(RobustnessTest, UnspecifiedEnumIsInvalidArgumentNamingTheField) {
  ASSERT_TRUE(client_->CreateSweep(testing::kThreeTrialSpec).ok());
  absl::StatusOr<Acquisition> leased = client_->AcquireTrial(testing::TestWorker("w"));
  ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();

  v1::ReportCheckpointsRequest request;
  request.set_trial_id(leased->trial->id);
  request.set_lease_id(leased->lease->lease_id);
  rpc::ToProto(testing::TestCheckpoint(50, 1), request.add_checkpoints());
  request.mutable_checkpoints(0)->mutable_layer_stats(0)->clear_quantity();
  grpc::ClientContext context;
  v1::LeaseRenewal response;
  grpc::Status status = stub_->ReportCheckpoints(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("checkpoints[0].layer_stats[0].quantity"));

  // Nothing was stored by the rejected report.
  absl::StatusOr<std::vector<Checkpoint>> stored =
      client_->GetCheckpoints(leased->trial->id, std::nullopt, false);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->empty());

  v1::CompleteTrialRequest complete;
  complete.set_trial_id(leased->trial->id);
  complete.set_lease_id(leased->lease->lease_id);
  complete.set_state(v1::TRIAL_STATE_PENDING);  // not an outcome
  grpc::ClientContext complete_context;
  v1::CompleteTrialResponse complete_response;
  EXPECT_EQ(stub_->CompleteTrial(&complete_context, complete, &complete_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ExpectStillServing();
}

TEST_F(RobustnessTest, UnparsableBytesAreInvalidArgumentAndTheServerStaysUp) {
  std::string response;
  // A field header promising 100 bytes that never come.
  grpc::Status status = testing::CallRaw(channel_, "/deepsweep.v1.CoordinatorService/GetSweep",
                                         std::string("\x0a\x64garbage", 9), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("/deepsweep.v1.CoordinatorService/GetSweep"));
  ExpectStillServing();
}

TEST_F(RobustnessTest, UnknownMethodIsUnimplemented) {
  std::string response;
  grpc::Status status =
      testing::CallRaw(channel_, "/deepsweep.v1.CoordinatorService/DropTables", "", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  ExpectStillServing();
}

TEST(ServerOptionsTest, NonPositiveLimitsAreRejectedByName) {
  Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
  options.max_idle_threads = 0;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("max_idle_threads"));
  options.max_idle_threads = 1;
  options.max_message_bytes = -1;
  server = Server::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("max_message_bytes"));
}

}  // namespace
}  // namespace deepsweep::server
