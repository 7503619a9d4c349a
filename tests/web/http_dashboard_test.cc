// The dashboard's HTTP server on loopback: pages, the API, read-only methods,
// the token rules (bearer header, login cookie) and the security headers.
#include "web/http_dashboard.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "store/memory_sweep_store.h"

namespace deepsweep::web {
namespace {

using ::testing::HasSubstr;

class HttpDashboardTest : public ::testing::Test {
 protected:
  void Start(const std::string& token, std::function<std::string()> metrics = {}) {
    coordinator_ = std::make_unique<Coordinator>(&store_, &clock_);
    HttpDashboardOptions options{.address = "127.0.0.1:0", .metrics = std::move(metrics)};
    if (!token.empty()) {
      options.authenticate = [token](const std::string& presented) {
        return presented == token ? absl::OkStatus() : absl::UnauthenticatedError("wrong token");
      };
    }
    auto dashboard = HttpDashboard::Start(coordinator_.get(), &store_, &clock_, options);
    ASSERT_TRUE(dashboard.ok()) << dashboard.status();
    dashboard_ = std::move(*dashboard);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", dashboard_->port());
  }

  FakeClock clock_;
  MemorySweepStore store_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<HttpDashboard> dashboard_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpDashboardTest, ServesThePageTheApiAndSecurityHeaders) {
  Start("");
  ASSERT_TRUE(
      coordinator_->CreateSweep("name: web\nmodel: {width: 8}\ngrid: {depth: [1, 2]}\n").ok());
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("/static/dashboard.js"));
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  auto script = client_->Get("/static/dashboard.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_THAT(script->get_header_value("Content-Type"), HasSubstr("javascript"));
  EXPECT_EQ(client_->Get("/static/nothing.js")->status, 404);

  auto sweeps = client_->Get("/api/sweeps");
  ASSERT_TRUE(sweeps);
  EXPECT_EQ(sweeps->status, 200);
  const nlohmann::json body = nlohmann::json::parse(sweeps->body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["counts"]["total"], 2);
  auto missing = client_->Get("/api/sweeps/99");
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("sweep 99 not found"));
  EXPECT_EQ(client_->Get("/api/sweeps/1/trials?limit=x")->status, 400);
  EXPECT_EQ(client_->Get("/api/sweeps/1/trials?state=bogus")->status, 400);
  EXPECT_EQ(client_->Get("/metrics")->status, 404);  // no metrics source given
}

// The sweep page is computed once per change and at most once per
// min_interval (500 ms), and answers carry an ETag a browser revalidates with.
TEST_F(HttpDashboardTest, SweepPageIsKeptBetweenChangesAndRevalidatedByETag) {
  Start("");
  auto sweep = coordinator_->CreateSweep(
      "name: web\nmodel: {width: 8}\ntraining: {updates: 100, checkpoint_every: 10}\n"
      "grid: {depth: [1, 2]}\n");
  ASSERT_TRUE(sweep.ok());
  auto first = client_->Get("/api/sweeps/1");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  const std::string etag = first->get_header_value("ETag");
  EXPECT_FALSE(etag.empty());
  EXPECT_EQ(first->get_header_value("Cache-Control"), "private, no-cache");
  EXPECT_EQ(nlohmann::json::parse(first->body)["sweep"]["counts"]["leased"], 0);

  // Unchanged: the browser's copy stands (304, no body), for as long as the
  // page lives (max_age 5 s).
  clock_.Advance(absl::Seconds(2));
  auto same = client_->Get("/api/sweeps/1", {{"If-None-Match", etag}});
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  EXPECT_EQ(client_->Get("/api/sweeps/1", {{"If-None-Match", "W/" + etag}})->status, 304);
  EXPECT_EQ(client_->Get("/api/sweeps/1", {{"If-None-Match", "\"other\""}})->status, 200);

  // A change shows at once when the page is older than 500 ms...
  auto lease = coordinator_->AcquireTrial({.worker_id = "w", .host = "h"});
  ASSERT_TRUE(lease.ok() && lease->trial.has_value());
  auto changed = client_->Get("/api/sweeps/1", {{"If-None-Match", etag}});
  ASSERT_EQ(changed->status, 200);
  const std::string etag2 = changed->get_header_value("ETag");
  EXPECT_NE(etag2, etag);
  EXPECT_EQ(nlohmann::json::parse(changed->body)["sweep"]["counts"]["leased"], 1);

  // ... and otherwise once 500 ms have passed since the page was computed:
  // until then every viewer gets the kept page.
  ASSERT_TRUE(coordinator_->CompleteTrial(lease->trial->id, lease->lease->lease_id, {}).ok());
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_EQ(client_->Get("/api/sweeps/1", {{"If-None-Match", etag2}})->status, 304);
  clock_.Advance(absl::Milliseconds(1));
  auto fresh = client_->Get("/api/sweeps/1", {{"If-None-Match", etag2}});
  ASSERT_EQ(fresh->status, 200);
  EXPECT_EQ(nlohmann::json::parse(fresh->body)["sweep"]["counts"]["succeeded"], 1);

  // Uncached pages carry tags too, and errors are never kept.
  auto workers = client_->Get("/api/workers");
  EXPECT_EQ(
      client_->Get("/api/workers", {{"If-None-Match", workers->get_header_value("ETag")}})->status,
      304);
  EXPECT_EQ(client_->Get("/api/sweeps/2")->status, 404);
  ASSERT_TRUE(coordinator_->CreateSweep("name: two\nmodel: {width: 8}\n").ok());
  EXPECT_EQ(client_->Get("/api/sweeps/2")->status, 200);
}

TEST_F(HttpDashboardTest, OnlyReadsAreServed) {
  Start("");
  EXPECT_EQ(client_->Post("/api/sweeps", "name: x", "text/yaml")->status, 405);
  EXPECT_EQ(client_->Delete("/api/sweeps/1")->status, 405);
  EXPECT_EQ(client_->Put("/api/sweeps/1", "", "text/plain")->status, 405);
}

TEST_F(HttpDashboardTest, TokenByBearerHeaderOrLoginCookie) {
  Start("s3cret");
  EXPECT_EQ(client_->Get("/api/sweeps")->status, 401);
  auto page = client_->Get("/");
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/login");
  EXPECT_EQ(client_->Get("/login")->status, 200);
  EXPECT_EQ(client_->Get("/static/dashboard.css")->status, 200);  // the app's code is open

  EXPECT_EQ(client_->Get("/api/sweeps", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(client_->Get("/api/sweeps", {{"Authorization", "Bearer s3cret"}})->status, 200);

  auto failed = client_->Post("/login", "token=nope", "application/x-www-form-urlencoded");
  EXPECT_EQ(failed->status, 303);
  EXPECT_EQ(failed->get_header_value("Location"), "/login?failed=1");
  EXPECT_FALSE(failed->has_header("Set-Cookie"));
  auto login = client_->Post("/login", "token=s3cret", "application/x-www-form-urlencoded");
  EXPECT_EQ(login->status, 303);
  const std::string cookie = login->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  const std::string pair = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(client_->Get("/api/sweeps", {{"Cookie", pair}})->status, 200);
  EXPECT_EQ(client_->Get("/api/sweeps", {{"Cookie", "deepsweep_token=00"}})->status, 401);
}

TEST_F(HttpDashboardTest, MetricsComeFromTheGivenSource) {
  Start("", [] { return std::string("deepsweep_up 1\n"); });
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "deepsweep_up 1\n");
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
}

TEST_F(HttpDashboardTest, RefusesToStartWithoutChartJsOrOnABadAddress) {
  coordinator_ = std::make_unique<Coordinator>(&store_, &clock_);
  auto no_chart = HttpDashboard::Start(coordinator_.get(), &store_, &clock_,
                                       {.chartjs_dir = "/nonexistent/chart.js"});
  EXPECT_EQ(no_chart.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_chart.status().message(), HasSubstr("libjs-chart.js"));
  auto bad = HttpDashboard::Start(coordinator_.get(), &store_, &clock_, {.address = "nowhere"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SplitHostPort, ParsesAndRejects) {
  EXPECT_EQ(*SplitHostPort("127.0.0.1:8080"), (std::pair<std::string, int>{"127.0.0.1", 8080}));
  EXPECT_EQ(*SplitHostPort("[::1]:0"), (std::pair<std::string, int>{"::1", 0}));
  EXPECT_FALSE(SplitHostPort("localhost").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
  EXPECT_FALSE(SplitHostPort("host:99999").ok());
  EXPECT_FALSE(SplitHostPort("[::1]").ok());
}

}  // namespace
}  // namespace deepsweep::web
