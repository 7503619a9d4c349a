// deepsweep-server: flags -> Server::Options -> Start -> serve until SIGTERM/SIGINT.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/signals.h"
#include "server/connection_listener.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  deepsweep::server::Server::Options options;
  deepsweep::LoggingOptions logging{.program = "server"};
  double lease_ttl_s = absl::ToDoubleSeconds(options.coordinator.lease_ttl);
  CLI::App app{"deepsweep coordinator: holds sweeps in SQLite, hands trials to workers"};
  app.add_option("--address", options.address, "host:port to listen on")->capture_default_str();
  app.add_option("--db", options.database_path, "SQLite file (:memory: = no file)")
      ->capture_default_str();
  app.add_option("--lease-ttl", lease_ttl_s, "seconds a lease lives without heartbeat")
      ->capture_default_str();
  app.add_option("--max-trials", options.coordinator.max_trials_per_sweep, "trials per sweep")
      ->capture_default_str();
  app.add_option("--max-unfinished-trials", options.coordinator.max_unfinished_trials,
                 "pending and leased trials of all sweeps together (~1.1 KB of memory each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--token", options.token, "a bearer token with the admin role");
  app.add_option("--token-file", options.token_file, "file holding that admin token");
  app.add_option("--credentials", options.credentials_file,
                 "credentials file, 'ROLE NAME SECRET' a line; re-read on SIGHUP");
  app.add_option("--health-address", options.health_address,
                 "also serve only grpc.health.v1 here, plaintext (for Kubernetes' gRPC probes)");
  app.add_option("--tls-cert", options.tls_cert_path, "PEM certificate chain (TLS)");
  app.add_option("--tls-key", options.tls_key_path, "PEM private key (TLS)");
  app.add_option("--http", options.http_address,
                 "host:port for the web dashboard, JSON API and /metrics (off unless given)");
  app.add_flag("--insecure", options.insecure, "allow a non-loopback address without token");
  app.add_option("--max-message-bytes", options.max_message_bytes, "largest request accepted")
      ->capture_default_str();
  app.add_option("--max-idle-threads", options.max_idle_threads,
                 "idle call-handling threads kept (one per worker calling at once)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  double handshake_timeout_s = absl::ToDoubleSeconds(options.handshake_timeout);
  double idle_timeout_s = absl::ToDoubleSeconds(options.connection_idle_timeout);
  app.add_option("--max-connections", options.max_connections,
                 "connections open at once; more are refused until some close")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--descriptor-reserve", options.descriptor_reserve,
                 "descriptors kept free below the open-file limit (connections refused there)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--handshake-timeout", handshake_timeout_s,
                 "seconds a new connection has to finish its TLS/HTTP2 handshake")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout_s,
                 "seconds a connection with no call in flight stays open")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-concurrent-streams", options.max_concurrent_streams,
                 "calls in flight on one connection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-threads", options.max_threads,
                 "call-handling threads in all; calls beyond get RESOURCE_EXHAUSTED")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--log-level", logging.level, "trace|debug|info|warn|error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (absl::Status status = deepsweep::InitLogging(logging); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  }
  options.coordinator.lease_ttl = absl::Seconds(lease_ttl_s);
  options.handshake_timeout = absl::Seconds(handshake_timeout_s);
  options.connection_idle_timeout = absl::Seconds(idle_timeout_s);
  // Every descriptor the hard limit allows: connections are capped by
  // --max-connections, not by a low default soft limit.
  if (absl::StatusOr<uint64_t> limit = deepsweep::server::RaiseOpenFileLimit(); limit.ok()) {
    spdlog::debug("open-file limit: {}", *limit);
  } else {
    spdlog::warn("{}", limit.status().ToString());
  }
  // Debian's abseil checks every Mutex for deadlock cycles (a debug aid, ~5% CPU here).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Before Start, so a SIGHUP or SIGTERM once the server answers is never fatal.
  if (absl::Status status = deepsweep::InstallTerminationHandlers(); status.ok()) {
    status = deepsweep::InstallReloadHandler();
    if (!status.ok()) spdlog::error("SIGHUP will not reload credentials: {}", status.ToString());
  }
  auto server = deepsweep::server::Server::Start(std::move(options));
  if (!server.ok()) {
    spdlog::critical("cannot start: {}", server.status().ToString());
    return 1;
  }
  (*server)->ServeUntilSignal();
  return 0;
}
