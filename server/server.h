// Server: deepsweep-server as a library, so main.cc only parses flags.
//
// Start() opens the store (SQLite, or memory for ":memory:"), builds the
// Coordinator on it (which resumes every unfinished sweep and lease), serves
// deepsweep.v1.CoordinatorService and grpc.health.v1.Health on the address
// through its own accept loop (ConnectionListener: connection and descriptor
// limits, recovery from a full descriptor table), and runs a background
// thread that expires overdue leases. While writes to the store fail by the
// store's fault (a full disk, an I/O error), the health service answers
// NOT_SERVING and an error is logged; SERVING (and an info line) come back
// with the first write that succeeds. It refuses to start on a non-loopback
// address without credentials unless `insecure` is set; with credentials,
// every coordinator call must carry a token whose role allows the method
// (server/auth.h; health checks stay open so orchestrators can probe).
//
// Thread-safety: Shutdown() and Wait() may be called from any thread, any
// number of times; the destructor shuts down if nobody did.
#ifndef DEEPSWEEP_SERVER_SERVER_H_
#define DEEPSWEEP_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "core/snapshot_store.h"
#include "core/snapshots.h"
#include "core/sweep_store.h"
#include "rpc/grpc_coordinator_client.h"
#include "server/auth.h"
#include "server/connection_listener.h"
#include "server/coordinator_service.h"
#include "server/rpc_metrics.h"
#include "store/sqlite_sweep_store.h"
#include "web/http_dashboard.h"

namespace grpc {
class CallbackGenericService;
class Server;
namespace experimental {
class ExternalConnectionAcceptor;
}  // namespace experimental
}  // namespace grpc

namespace deepsweep::server {

class Server {
 public:
  struct Options {
    // Where to listen, "host:port"; port 0 picks a free port (see port()).
    std::string address = rpc::kDefaultCoordinatorAddress;
    // The SQLite database file, created if missing; ":memory:" keeps
    // everything in memory (lost at exit).
    std::string database_path = "deepsweep.db";
    // Leases, retry hints and spec limits (lease_ttl lives here).
    CoordinatorOptions coordinator;
    // A bearer token with the admin role (the single shared token of old
    // versions; still accepted); empty = none.
    std::string token;
    // File holding that admin token (surrounding whitespace ignored);
    // exclusive with `token`.
    std::string token_file;
    // Credentials file, one `ROLE NAME SECRET` a line (server/auth.h,
    // docs/OPERATIONS.md); read at start and again by ReloadCredentials().
    // Combines with `token` / `token_file`.
    std::string credentials_file;
    // Also serve grpc.health.v1 alone, plaintext and without credentials, on
    // this "host:port" (port 0 picks one, see health_port()); empty = not.
    // For probes that cannot speak TLS (Kubernetes' native gRPC probes).
    std::string health_address;
    // PEM certificate chain and private key: both set = TLS, neither = plain TCP.
    std::string tls_cert_path;
    std::string tls_key_path;
    // Allow a non-loopback address without a token (anyone who can reach the
    // port can then drive the coordinator).
    bool insecure = false;
    // Largest request accepted; larger ones get RESOURCE_EXHAUSTED.
    int max_message_bytes = 16 << 20;
    // Idle call-handling threads kept for the next calls. A call holds its
    // thread until its write commits, so with fewer than the number of
    // workers calling at once, gRPC (default 2) starts and ends a thread for
    // nearly every call: 64 workers lost 8-12% of their throughput to it.
    int max_idle_threads = 128;
    // Connections open at once (each holds a descriptor); more are refused
    // until some close. See server/connection_listener.h.
    int max_connections = 1000;
    // Descriptors kept free for the database and gRPC: a connection whose
    // descriptor comes this close to the open-file limit is refused.
    int descriptor_reserve = 64;
    // A connection that has not finished its TLS/HTTP/2 handshake by then is
    // closed (gRPC's default is 120 s).
    absl::Duration handshake_timeout = absl::Seconds(10);
    // A connection with no call in flight for this long is closed; clients
    // reconnect on their next call. Streams (WatchSweep) keep it open.
    absl::Duration connection_idle_timeout = absl::Minutes(5);
    // Calls in flight on one connection; more wait on the client's side.
    int max_concurrent_streams = 100;
    // Call-handling threads over all connections; calls beyond them fail
    // with RESOURCE_EXHAUSTED. Must exceed max_idle_threads.
    int max_threads = 1024;
    // How often the background thread expires overdue leases.
    absl::Duration expiry_interval = absl::Seconds(1);
    // How long Shutdown() lets calls in flight finish before cancelling them.
    absl::Duration shutdown_grace = absl::Seconds(5);
    // Where the HTTP dashboard, its JSON API and /metrics listen
    // ("host:port", port 0 = any free port); empty = no HTTP. The token rule
    // is the gRPC one: a non-loopback address needs credentials (or insecure),
    // and a request needs a credential whose role may read (reader or above).
    // With TLS files set, it serves HTTPS with them.
    std::string http_address;
    // Chart.js for the dashboard (Debian's libjs-chart.js).
    std::string chartjs_dir = "/usr/share/javascript/chart.js";
    // WatchSweep pacing.
    CoordinatorServiceOptions service;
    // The coordinator's clock; nullptr = the system clock. Tests pass a FakeClock.
    const Clock* clock = nullptr;
    // A store to serve instead of opening database_path; must outlive the
    // server. Tests pass one whose disk they can fill.
    SweepStore* store = nullptr;
  };

  // Errors: INVALID_ARGUMENT (inconsistent options, e.g. a cert without a
  // key), FAILED_PRECONDITION (non-loopback address without token or
  // insecure), NOT_FOUND / PERMISSION_DENIED (unreadable token or TLS files),
  // UNAVAILABLE (the address cannot be bound), and the store's errors.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Options options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the chosen one when the address asked for port 0).
  int port() const { return port_; }
  // The bound port of health_address; 0 when there is none.
  int health_port() const { return health_port_; }
  // The HTTP dashboard's bound port; 0 without http_address.
  int http_port() const;
  bool tls() const { return tls_; }

  // Stops accepting calls, ends WatchSweep streams, gives calls in flight
  // shutdown_grace to finish, then stops the expiry thread. Idempotent.
  void Shutdown();
  // Blocks until the server has shut down.
  void Wait();
  // Re-reads credentials_file (and token_file) and swaps the accepted
  // credentials: added ones work and revoked ones are refused from the next
  // call on. When a file cannot be read or parsed, keeps the current set and
  // returns why (INVALID_ARGUMENT, NOT_FOUND, ...). FAILED_PRECONDITION when
  // the server was started without credentials (nothing to reload into).
  absl::Status ReloadCredentials();

  // Blocks until SIGTERM or SIGINT arrives (or Shutdown() is called), then
  // shuts down gracefully; SIGHUP meanwhile reloads the credentials. For main().
  void ServeUntilSignal();

 private:
  Server() = default;
  void ExpireLeasesPeriodically();
  // Sets grpc.health.v1's answer on the main port and the health port.
  void SetServing(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shutdown_mu_);
  // The coordinator's on_store_health_change: log, and health follows.
  void OnStoreHealthChange(const StoreHealth& health);
  // /metrics: the store's and coordinator's state, counters and latencies.
  std::string MetricsText();

  Options options_;
  int port_ = 0;
  int health_port_ = 0;
  bool tls_ = false;
  std::unique_ptr<SweepStore> owned_store_;
  SweepStore* store_ = nullptr;
  SqliteSweepStore* sqlite_ = nullptr;  // store_ when it is SQLite (write metrics)
  RpcMetrics rpc_metrics_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<SnapshotStore> snapshot_store_;  // null for :memory:
  std::unique_ptr<Snapshots> snapshots_;
  std::unique_ptr<TokenAuthenticator> authenticator_;
  std::unique_ptr<CoordinatorServiceImpl> service_;
  std::unique_ptr<ConnectionListener> listener_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  // The gRPC servers are set once under shutdown_mu_, before any call can
  // change store health.
  std::unique_ptr<grpc::Server> grpc_server_;
  // Answers UNIMPLEMENTED on the health port for all but the health service.
  std::unique_ptr<grpc::CallbackGenericService> unimplemented_;
  std::unique_ptr<grpc::Server> health_server_;
  std::unique_ptr<web::HttpDashboard> http_;
  std::thread expiry_thread_;

  absl::Notification stopping_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  bool store_writable_ ABSL_GUARDED_BY(shutdown_mu_) = true;
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_SERVER_H_
