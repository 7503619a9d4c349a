// HttpDashboard: the web dashboard's HTTP server (cpp-httplib from Debian).
// Serves the dashboard page and its scripts (embedded at build time), Chart.js
// from where Debian installs it (libjs-chart.js), the read-only JSON API of
// web/dashboard_api.h under /api/, and Prometheus metrics at /metrics.
//
// Only GET and HEAD are served, except POST /login. Authentication (when
// `authenticate` is set): every page, /api/ and /metrics request needs the
// token, as "Authorization: Bearer <token>" or the HttpOnly cookie that a
// POST /login with the right token sets; pages without it redirect to /login,
// the rest get 401. Static files (the app's code, Chart.js) and /login are
// open. Every response carries a Content-Security-Policy that allows scripts
// and styles from this origin only, so data rendered by the page can never run
// as code even if it were inserted as HTML (the page uses textContent).
//
// JSON answers carry an ETag (web/page_cache.h: from their bytes) and
// "Cache-Control: private, no-cache": a browser asks again with
// If-None-Match and gets a bodiless 304 while the answer is unchanged. The
// pages of a sweep, of the sweep list and of a trial come from a PageCache:
// computed once per change of their data and at most once per
// cache.min_interval, whatever the number of open dashboards. Reads never
// take the coordinator's decision lock (the Coordinator's read use cases go
// to the store's own read connection).
//
// Which addresses need a token is the caller's rule (server/: loopback by
// default, the gRPC rules elsewhere).
//
// Thread-safety: Shutdown() may be called from any thread, more than once;
// requests are served on cpp-httplib's thread pool.
#ifndef DEEPSWEEP_WEB_HTTP_DASHBOARD_H_
#define DEEPSWEEP_WEB_HTTP_DASHBOARD_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "core/sweep_store.h"
#include "web/dashboard_api.h"
#include "web/page_cache.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace deepsweep::web {

struct HttpDashboardOptions {
  // "host:port" or "[v6]:port"; port 0 picks a free port (see port()).
  std::string address = "127.0.0.1:0";
  // Checks a presented token: OK lets the request through. Empty = no token
  // needed.
  std::function<absl::Status(const std::string& token)> authenticate;
  // PEM certificate chain and key: both set = HTTPS, neither = plain HTTP.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Where Chart.js is (Debian's libjs-chart.js), served under /chartjs/.
  std::string chartjs_dir = "/usr/share/javascript/chart.js";
  // The text of /metrics; empty = no /metrics.
  std::function<std::string()> metrics;
  DashboardApiOptions api;
  // How often pages are recomputed (web/page_cache.h).
  PageCacheOptions cache;
};

class HttpDashboard {
 public:
  // Binds the address and serves on a background thread. `coordinator`,
  // `store` and `clock` must outlive the dashboard. Errors: INVALID_ARGUMENT
  // for a malformed address or half a TLS pair, UNAVAILABLE when the address
  // cannot be bound or the TLS files do not load, FAILED_PRECONDITION when
  // chartjs_dir does not exist.
  static absl::StatusOr<std::unique_ptr<HttpDashboard>> Start(Coordinator* coordinator,
                                                              SweepStore* store, const Clock* clock,
                                                              HttpDashboardOptions options);
  ~HttpDashboard();
  HttpDashboard(const HttpDashboard&) = delete;
  HttpDashboard& operator=(const HttpDashboard&) = delete;

  int port() const { return port_; }
  bool tls() const { return tls_; }
  // Stops accepting requests and waits for the serving thread. Idempotent.
  void Shutdown();

 private:
  HttpDashboard() = default;
  void Route();
  // Answers with the page `key` at `version` from cache_ (or 304).
  void ServeCached(const httplib::Request& req, httplib::Response& res, const std::string& key,
                   uint64_t version, absl::FunctionRef<absl::StatusOr<std::string>()> compute);

  HttpDashboardOptions options_;
  Coordinator* coordinator_ = nullptr;
  std::unique_ptr<DashboardApi> api_;
  std::unique_ptr<PageCache> cache_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  bool chartjs_found_ = false;
};

// The host and port of "host:port" or "[v6]:port" (brackets removed).
// INVALID_ARGUMENT when there is no port or it is not 0-65535.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address);

}  // namespace deepsweep::web

#endif  // DEEPSWEEP_WEB_HTTP_DASHBOARD_H_
