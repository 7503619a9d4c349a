// The gRPC implementation of CoordinatorClient.
//
// ConnectCoordinator creates a channel to the coordinator (plain TCP, or TLS
// verified with a given CA or the system roots), and every call it makes
// carries the bearer token, when one is set, and a deadline. Creating the
// client does not wait for the server: the first call that cannot reach it
// fails with UNAVAILABLE (or waits, with wait_for_ready).
//
// Thread-safety: the returned client is safe to call from several threads.
#ifndef DEEPSWEEP_RPC_GRPC_COORDINATOR_CLIENT_H_
#define DEEPSWEEP_RPC_GRPC_COORDINATOR_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::rpc {

// Where deepsweep-server listens unless told otherwise.
inline constexpr char kDefaultCoordinatorAddress[] = "127.0.0.1:7070";

struct ClientOptions {
  // The coordinator, "host:port" (any gRPC target, e.g. "dns:///coordinator:7070").
  std::string target = kDefaultCoordinatorAddress;
  // Talk TLS. The server's certificate is checked against ca_cert_path, or
  // against the system's roots when that is empty.
  bool tls = false;
  // PEM file of the CA that signed the server's certificate; setting it implies tls.
  std::string ca_cert_path;
  // Name to check the server's certificate against instead of the target's
  // host (e.g. when the target is an IP address the certificate does not list).
  std::string tls_server_name;
  // Sent as "authorization: Bearer <token>" with every call; empty = none.
  std::string token;
  // Deadline of each unary call, measured from its start.
  absl::Duration call_timeout = absl::Seconds(30);
  // Deadline of a snapshot upload or download (19 MB for a 5 x 1000 net).
  absl::Duration snapshot_timeout = absl::Minutes(5);
  // Largest response accepted; ListTrials of a big sweep can be large.
  int max_receive_message_bytes = 256 << 20;
  // Queue calls until the server is reachable (within call_timeout) instead of
  // failing at once with UNAVAILABLE.
  bool wait_for_ready = false;
  // Longest wait between the channel's attempts to reconnect to an
  // unreachable server. gRPC's own default grows to 120 s, which would keep a
  // worker that backs off by itself (worker/backoff.h) waiting long after
  // the coordinator is back.
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  // Open a connection of this client's own instead of sharing one with the
  // other clients of the process to the same target (load generators that
  // simulate many workers in one process want this).
  bool own_connection = false;
};

// Errors: INVALID_ARGUMENT for an empty target or a non-positive timeout,
// NOT_FOUND / PERMISSION_DENIED when ca_cert_path cannot be read.
absl::StatusOr<std::unique_ptr<CoordinatorClient>> ConnectCoordinator(const ClientOptions& options);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_GRPC_COORDINATOR_CLIENT_H_
