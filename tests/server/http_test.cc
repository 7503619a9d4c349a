// deepsweep-server --http: the dashboard beside the gRPC service, under the
// same token rules.
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/auth.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using ::testing::HasSubstr;
using testing::LoopbackOptions;

TEST(TokenAuthenticatorTest, AuthorizesAPresentedToken) {
  TokenAuthenticator authenticator({Credential{.role = Role::kReader,
                                               .name = "alice",
                                               .digest = Sha256("alice-token-0123456789abcdef")},
                                    Credential{.role = Role::kWorker,
                                               .name = "pool",
                                               .digest = Sha256("worker-token-0123456789abcdef")}},
                                   /*required=*/true);
  absl::StatusOr<Caller> alice =
      authenticator.AuthorizeToken("alice-token-0123456789abcdef", Access::kRead, "page");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(authenticator.AuthorizeToken("alice-token-0123456789abcdeF", Access::kRead, "page")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authenticator.AuthorizeToken("", Access::kRead, "page").status().code(),
            absl::StatusCode::kUnauthenticated);
  const absl::Status worker =
      authenticator.AuthorizeToken("worker-token-0123456789abcdef", Access::kRead, "page").status();
  EXPECT_EQ(worker.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(worker.message(), HasSubstr("page"));
  EXPECT_TRUE(TokenAuthenticator({}, /*required=*/false)
                  .AuthorizeToken("anything", Access::kRead, "page")
                  .ok());
}

TEST(ServerHttpTest, OffUnlessAnAddressIsGiven) {
  const auto dir = FreshDirectory();
  auto server = Server::Start(LoopbackOptions(dir / "db.sqlite"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->http_port(), 0);
}

TEST(ServerHttpTest, ServesTheDashboardOnLoopbackWithoutToken) {
  const auto dir = FreshDirectory();
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.http_address = "127.0.0.1:0";
  auto server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->http_port(), 0);
  ASSERT_TRUE(Connect((*server)->port())->CreateSweep(testing::kThreeTrialSpec).ok());
  httplib::Client http("127.0.0.1", (*server)->http_port());
  auto sweeps = http.Get("/api/sweeps");
  ASSERT_TRUE(sweeps);
  EXPECT_EQ(sweeps->status, 200);
  EXPECT_THAT(sweeps->body, HasSubstr("\"name\":\"wire-test\""));
  // Chart.js comes from Debian's libjs-chart.js, not from the repository.
  auto chart = http.Get("/chartjs/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_THAT(chart->body, HasSubstr("Chart.js v3"));
}

TEST(ServerHttpTest, NonLoopbackHttpNeedsTheToken) {
  const auto dir = FreshDirectory();
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.http_address = "0.0.0.0:0";
  auto refused = Server::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("HTTP"));
  EXPECT_THAT(refused.status().message(), HasSubstr("credentials"));
  EXPECT_THAT(refused.status().message(), HasSubstr("0.0.0.0:0"));

  // A reader credential suffices; a worker's may not read the dashboard.
  const std::string credentials = (dir / "credentials").string();
  {
    std::ofstream out(credentials);
    out << "reader alice reader-token-0123456789abcdef\nworker pool "
           "worker-token-0123456789abcdef\n";
  }
  options.credentials_file = credentials;
  auto server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client http("127.0.0.1", (*server)->http_port());
  EXPECT_EQ(http.Get("/api/sweeps")->status, 401);
  EXPECT_EQ(
      http.Get("/api/sweeps", {{"Authorization", "Bearer reader-token-0123456789abcdef"}})->status,
      200);
  EXPECT_EQ(
      http.Get("/api/sweeps", {{"Authorization", "Bearer worker-token-0123456789abcdef"}})->status,
      403);
  EXPECT_EQ(http.Get("/api/sweeps", {{"Authorization", "Bearer nope"}})->status, 401);
}

}  // namespace
}  // namespace deepsweep::server
