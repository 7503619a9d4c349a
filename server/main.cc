// deepsweep-server: flags -> Server::Options -> Start -> serve until SIGTERM/SIGINT.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/signals.h"
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
  app.add_option("--token", options.token, "a bearer token with the admin role");
  app.add_option("--token-file", options.token_file, "file holding that admin token");
  app.add_option("--credentials", options.credentials_file,
                 "credentials file, 'ROLE NAME SECRET' a line; re-read on SIGHUP");
  app.add_option("--tls-cert", options.tls_cert_path, "PEM certificate chain (TLS)");
  app.add_option("--tls-key", options.tls_key_path, "PEM private key (TLS)");
  app.add_flag("--insecure", options.insecure, "allow a non-loopback address without token");
  app.add_option("--max-message-bytes", options.max_message_bytes, "largest request accepted")
      ->capture_default_str();
  app.add_option("--max-idle-threads", options.max_idle_threads,
                 "idle call-handling threads kept (one per worker calling at once)")
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
