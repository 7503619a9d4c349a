// CheckHealth against a real gRPC server on loopback running grpc++'s own
// health service, and the hand-written wire format against known bytes.
#include "rpc/health_check.h"

#include <memory>

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"

namespace deepsweep::rpc {
namespace {

TEST(HealthWireTest, EncodesRequest) {
  EXPECT_EQ(EncodeHealthCheckRequest(""), "");
  // field 1, wire type 2 = 0x0a; length 3; "abc".
  EXPECT_EQ(EncodeHealthCheckRequest("abc"), std::string("\x0a\x03"
                                                         "abc"));
  EXPECT_EQ(EncodeHealthCheckRequest(std::string(200, 'x')).substr(0, 3),
            std::string("\x0a\xc8\x01"));  // 200 as a varint
}

TEST(HealthWireTest, DecodesResponse) {
  EXPECT_EQ(*DecodeHealthCheckResponse(""), ServingStatus::kUnknown);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x01", 2)), ServingStatus::kServing);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x02", 2)), ServingStatus::kNotServing);
  // Unknown fields are skipped: field 2 (length-delimited "zz"), then status.
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x12\x02zz\x08\x01", 6)),
            ServingStatus::kServing);
  EXPECT_EQ(DecodeHealthCheckResponse(std::string("\x08", 1)).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(DecodeHealthCheckResponse(std::string("\x12\x05z", 3)).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ServingStatusName(ServingStatus::kNotServing), "NOT_SERVING");
}

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    // A server needs one service of its own besides health: this one answers
    // UNIMPLEMENTED to everything.
    builder.RegisterCallbackGenericService(&other_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options_.target = "127.0.0.1:" + std::to_string(port_);
    options_.call_timeout = absl::Seconds(10);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  int port_ = 0;
  grpc::CallbackGenericService other_;
  std::unique_ptr<grpc::Server> server_;
  ClientOptions options_;
};

TEST_F(HealthServerTest, ServingThenNotServing) {
  auto status = CheckHealth(options_);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kServing);

  server_->GetHealthCheckService()->SetServingStatus(false);
  status = CheckHealth(options_);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kNotServing);
}

TEST_F(HealthServerTest, UnknownServiceIsNotFound) {
  EXPECT_EQ(CheckHealth(options_, "no.such.Service").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(HealthServerTest, NothingListeningIsUnavailable) {
  server_->Shutdown();
  server_.reset();
  EXPECT_EQ(CheckHealth(options_).status().code(), absl::StatusCode::kUnavailable);
}

TEST(HealthOptionsTest, RejectsBadOptions) {
  ClientOptions options;
  options.target = "";
  EXPECT_EQ(CheckHealth(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.target = "127.0.0.1:1";
  options.ca_cert_path = "/nonexistent/ca.pem";
  EXPECT_EQ(CheckHealth(options).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace deepsweep::rpc
