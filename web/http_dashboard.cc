#include "web/http_dashboard.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "httplib.h"
#include "web/static_files.h"

namespace deepsweep::web {
namespace {

constexpr char kCookieName[] = "deepsweep_token";
constexpr char kJson[] = "application/json";

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void ReplyError(httplib::Response& res, const absl::Status& status) {
  res.set_header("Cache-Control", "no-store");
  res.status = HttpStatusOf(status.code());
  res.set_content(absl::StrCat("{\"error\":", JsonString(std::string(status.message())), "}"),
                  kJson);
}

// Whether an If-None-Match header names `etag` (or is "*"). Weak tags
// ("W/...") compare by their opaque part, as RFC 9110 asks for this header.
bool NoneMatchHolds(const std::string& header, const std::string& etag) {
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

// A JSON answer with its entity tag. Browsers keep it and ask again with
// If-None-Match (Cache-Control: no-cache), and get a bodiless 304 while it is
// unchanged.
void ReplyPage(const httplib::Request& req, httplib::Response& res,
               const absl::StatusOr<std::shared_ptr<const CachedPage>>& page) {
  if (!page.ok()) return ReplyError(res, page.status());
  res.set_header("Cache-Control", "private, no-cache");
  res.set_header("ETag", (*page)->etag);
  if (req.has_header("If-None-Match") &&
      NoneMatchHolds(req.get_header_value("If-None-Match"), (*page)->etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content((*page)->body, kJson);
}

// An answer computed for this request alone, with its entity tag.
void Reply(const httplib::Request& req, httplib::Response& res,
           const absl::StatusOr<std::string>& body) {
  if (!body.ok()) return ReplyError(res, body.status());
  ReplyPage(
      req, res,
      std::make_shared<const CachedPage>(CachedPage{.body = *body, .etag = EntityTag(*body)}));
}

absl::StatusOr<int64_t> IdParam(const httplib::Request& req, size_t match) {
  int64_t id = 0;
  if (req.matches.size() <= match || !absl::SimpleAtoi(req.matches[match].str(), &id)) {
    return absl::InvalidArgumentError("bad id in the path");
  }
  return id;
}

// An integer query parameter, `fallback` when absent.
absl::StatusOr<int64_t> IntParam(const httplib::Request& req, const std::string& name,
                                 int64_t fallback) {
  if (!req.has_param(name.c_str())) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(req.get_param_value(name.c_str()), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("query parameter ", name, ": not an integer"));
  }
  return value;
}

// The token a request presents: the bearer header, else the login cookie
// (which holds the token hex-encoded, so any token fits a cookie).
std::string PresentedToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  absl::string_view auth = header;
  if (absl::ConsumePrefix(&auth, "Bearer ")) return std::string(auth);
  const std::string cookies = req.get_header_value("Cookie");
  for (absl::string_view part : absl::StrSplit(cookies, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, kCookieName) && absl::ConsumePrefix(&part, "=")) {
      std::string bytes;
      if (part.size() % 2 == 0 &&
          std::all_of(part.begin(), part.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
        return absl::HexStringToBytes(part);
      }
    }
  }
  return "";
}

bool IsOpenPath(const std::string& path) {
  return path == "/login" || path == "/favicon.ico" || absl::StartsWith(path, "/static/") ||
         absl::StartsWith(path, "/chartjs/");
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address) {
  std::string host;
  absl::string_view port_text;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("address '", address, "': expected [v6]:port"));
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("address '", address, "': expected host:port"));
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  int port = 0;
  if (host.empty() || !absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "': expected host:port with a port 0-65535"));
  }
  return std::pair{host, port};
}

absl::StatusOr<std::unique_ptr<HttpDashboard>> HttpDashboard::Start(Coordinator* coordinator,
                                                                    SweepStore* store,
                                                                    const Clock* clock,
                                                                    HttpDashboardOptions options) {
  ASSIGN_OR_RETURN(auto host_port, SplitHostPort(options.address));
  if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
    return absl::InvalidArgumentError("HTTPS needs both a certificate and a private key");
  }
  std::unique_ptr<HttpDashboard> dashboard(new HttpDashboard());
  dashboard->options_ = std::move(options);
  const HttpDashboardOptions& opts = dashboard->options_;
  dashboard->coordinator_ = coordinator;
  dashboard->api_ = std::make_unique<DashboardApi>(coordinator, store, clock, opts.api);
  dashboard->cache_ = std::make_unique<PageCache>(clock, opts.cache);
  if (opts.tls_cert_path.empty()) {
    dashboard->http_ = std::make_unique<httplib::Server>();
  } else {
    dashboard->http_ =
        std::make_unique<httplib::SSLServer>(opts.tls_cert_path.c_str(), opts.tls_key_path.c_str());
    dashboard->tls_ = true;
  }
  if (!dashboard->http_->is_valid()) {
    return absl::UnavailableError("cannot load the HTTPS certificate or key");
  }
  dashboard->Route();
  if (!dashboard->chartjs_found_) {
    return absl::FailedPreconditionError(
        absl::StrCat("no Chart.js directory at ", opts.chartjs_dir,
                     " (install Debian's libjs-chart.js, or set chartjs_dir)"));
  }
  const auto& [host, port] = host_port;
  dashboard->port_ = port == 0 ? dashboard->http_->bind_to_any_port(host)
                               : (dashboard->http_->bind_to_port(host, port) ? port : -1);
  if (dashboard->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", opts.address, " (address in use or invalid?)"));
  }
  dashboard->thread_ = std::thread([d = dashboard.get()] { d->http_->listen_after_bind(); });
  return dashboard;
}

HttpDashboard::~HttpDashboard() { Shutdown(); }

void HttpDashboard::Shutdown() {
  if (http_ != nullptr) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpDashboard::ServeCached(const httplib::Request& req, httplib::Response& res,
                                const std::string& key, uint64_t version,
                                absl::FunctionRef<absl::StatusOr<std::string>()> compute) {
  ReplyPage(req, res, cache_->Get(key, version, compute));
}

void HttpDashboard::Route() {
  httplib::Server& http = *http_;
  http.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
  });

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD" &&
        !(req.method == "POST" && req.path == "/login")) {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("read-only: only GET and HEAD are served\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!options_.authenticate || IsOpenPath(req.path)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const absl::Status status = options_.authenticate(PresentedToken(req));
    if (status.ok()) return httplib::Server::HandlerResponse::Unhandled;
    if (req.path == "/" || req.path == "/index.html") {
      res.status = 303;
      res.set_header("Location", "/login");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.status = HttpStatusOf(status.code());  // 401, or 403 for a role that may not read
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(absl::StrCat("{\"error\":", JsonString(std::string(status.message())), "}"),
                    kJson);
    return httplib::Server::HandlerResponse::Handled;
  });

  auto serve_file = [](const std::string& name, httplib::Response& res) {
    const StaticFile* file = FindStaticFile(name);
    if (file == nullptr) {
      res.status = 404;
      return;
    }
    res.set_content(std::string(file->body), std::string(file->content_type).c_str());
  };
  http.Get("/", [serve_file](const httplib::Request&, httplib::Response& res) {
    serve_file("index.html", res);
  });
  http.Get("/index.html", [serve_file](const httplib::Request&, httplib::Response& res) {
    serve_file("index.html", res);
  });
  http.Get("/static/([a-z_.]+)", [serve_file](const httplib::Request& req, httplib::Response& res) {
    serve_file(req.matches[1].str(), res);
  });
  chartjs_found_ = http.set_mount_point("/chartjs", options_.chartjs_dir);
  // Browsers ask for it on their own; no icon, and no error in their console.
  http.Get("/favicon.ico",
           [](const httplib::Request&, httplib::Response& res) { res.status = 204; });

  http.Get("/login", [serve_file](const httplib::Request&, httplib::Response& res) {
    serve_file("login.html", res);
  });
  http.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string token = req.get_param_value("token");
    if (!options_.authenticate || !options_.authenticate(token).ok()) {
      res.status = 303;
      res.set_header("Location", "/login?failed=1");
      return;
    }
    res.status = 303;
    res.set_header("Location", "/");
    res.set_header("Set-Cookie",
                   absl::StrCat(kCookieName, "=", absl::BytesToHexString(token),
                                "; Path=/; HttpOnly; SameSite=Strict", tls_ ? "; Secure" : ""));
  });

  // Pages of a sweep are kept per sweep version, the rest per coordinator
  // version (web/page_cache.h); /api/workers is computed per request (its
  // seconds_since_seen moves with time alone, and it costs next to nothing).
  http.Get("/api/sweeps", [this](const httplib::Request& req, httplib::Response& res) {
    ServeCached(req, res, "sweeps", coordinator_->version(), [&] { return api_->Sweeps(); });
  });
  http.Get(R"(/api/sweeps/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<int64_t> id = IdParam(req, 1);
    if (!id.ok()) return ReplyError(res, id.status());
    ServeCached(req, res, absl::StrCat("sweep/", *id), coordinator_->sweep_version(*id),
                [&] { return api_->Sweep(*id); });
  });
  http.Get(
      R"(/api/sweeps/(\d+)/curves)", [this](const httplib::Request& req, httplib::Response& res) {
        absl::StatusOr<int64_t> id = IdParam(req, 1);
        absl::StatusOr<int64_t> config = IntParam(req, "config", 0);
        if (!id.ok() || !config.ok()) {
          return ReplyError(res, !id.ok() ? id.status() : config.status());
        }
        ServeCached(req, res, absl::StrCat("curves/", *id, "/", *config),
                    coordinator_->sweep_version(*id), [&] { return api_->Curves(*id, *config); });
      });
  http.Get(R"(/api/sweeps/(\d+)/trials)", [this](const httplib::Request& req,
                                                 httplib::Response& res) {
    absl::StatusOr<int64_t> id = IdParam(req, 1);
    absl::StatusOr<int64_t> offset = IntParam(req, "offset", 0);
    absl::StatusOr<int64_t> limit = IntParam(req, "limit", 0);
    for (const absl::Status& s : {id.status(), offset.status(), limit.status()}) {
      if (!s.ok()) return ReplyError(res, s);
    }
    TrialPage page{.offset = *offset, .limit = *limit};
    if (req.has_param("state") && !req.get_param_value("state").empty()) {
      page.state = ParseTrialState(req.get_param_value("state"));
      if (!page.state.has_value()) {
        return ReplyError(res, absl::InvalidArgumentError("query parameter state: unknown state"));
      }
    }
    ServeCached(
        req, res,
        absl::StrCat("trials/", *id, "/", page.offset, "/", page.limit, "/",
                     page.state.has_value() ? std::string(TrialStateName(*page.state)) : ""),
        coordinator_->sweep_version(*id), [&] { return api_->Trials(*id, page); });
  });
  http.Get(R"(/api/trials/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<int64_t> id = IdParam(req, 1);
    if (!id.ok()) return ReplyError(res, id.status());
    ServeCached(req, res, absl::StrCat("trial/", *id), coordinator_->version(),
                [&] { return api_->Trial(*id); });
  });
  http.Get(R"(/api/trials/(\d+)/checkpoints)",
           [this](const httplib::Request& req, httplib::Response& res) {
             absl::StatusOr<int64_t> id = IdParam(req, 1);
             if (!id.ok()) return ReplyError(res, id.status());
             ServeCached(req, res, absl::StrCat("checkpoints/", *id), coordinator_->version(),
                         [&] { return api_->Checkpoints(*id); });
           });
  http.Get("/api/workers", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(req, res, api_->Workers());
  });
  if (options_.metrics) {
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(options_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
}

}  // namespace deepsweep::web
