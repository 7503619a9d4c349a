// ConnectionListener: the server's own accept loop, which hands each accepted
// socket to gRPC (ServerBuilder's external connection acceptor) so that no
// peer can make the server stop accepting.
//
// Why not gRPC's listener: gRPC 1.51 (Debian 12) ends its accept loop for good
// on any accept4() error other than EAGAIN/ECONNABORTED ("Failed accept4: Too
// many open files", grpc/grpc#20418), so idle connections that exhaust the
// descriptors leave the server deaf even after they close. This loop instead:
//   - refuses (accepts and closes at once) a connection when `max_connections`
//     accepted sockets are still open, or when the new socket's descriptor
//     number reaches the soft RLIMIT_NOFILE minus `descriptor_reserve` (the
//     kernel hands out the lowest free number, so at least that many are open),
//     which keeps descriptors for SQLite and gRPC's own use;
//   - keeps one spare descriptor: on EMFILE/ENFILE it closes the spare, accepts
//     and closes the pending connection, and reopens the spare, so a full
//     descriptor table never leaves connections queued (and the loop spinning);
//   - retries after 100 ms when even that fails, and logs such events at most
//     once per 10 s with the count held back.
// Connections that never finish the HTTP/2 handshake or stay idle are closed by
// gRPC (channel arguments set in Server::Start), which frees their slots.
//
// Thread-safety: Start/Stop from one thread; the loop runs on its own thread.
#ifndef DEEPSWEEP_SERVER_CONNECTION_LISTENER_H_
#define DEEPSWEEP_SERVER_CONNECTION_LISTENER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log_throttle.h"

namespace grpc::experimental {
class ExternalConnectionAcceptor;
}  // namespace grpc::experimental

namespace deepsweep::server {

struct ConnectionLimits {
  // Accepted connections open at once; more are refused until some close.
  int max_connections = 1000;
  // Descriptors kept free for everything else (database, gRPC, logs).
  int descriptor_reserve = 64;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (a process may always do
// so). Returns the soft limit now in force.
absl::StatusOr<uint64_t> RaiseOpenFileLimit();

class ConnectionListener {
 public:
  // Binds and listens on `address`: "host:port" (a name, IPv4, or "[v6]"; a
  // wildcard host listens on every interface; port 0 picks a free port) or
  // "unix:path". Errors: INVALID_ARGUMENT for an address it cannot parse or
  // resolve, UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<ConnectionListener>> Bind(const std::string& address,
                                                                  ConnectionLimits limits);
  ~ConnectionListener();
  ConnectionListener(const ConnectionListener&) = delete;
  ConnectionListener& operator=(const ConnectionListener&) = delete;

  // The bound TCP port (0 for a Unix socket).
  int port() const { return port_; }

  // Starts accepting on a background thread, handing connections to
  // `acceptor` (which must outlive Stop()).
  void Start(grpc::experimental::ExternalConnectionAcceptor* acceptor);
  // Stops accepting and closes the listening sockets. Idempotent.
  void Stop();

 private:
  ConnectionListener(std::vector<int> listen_fds, int port, ConnectionLimits limits);
  void AcceptLoop();
  // Accepts what `listen_fd` has pending; false when the descriptor table is
  // full and the loop should back off.
  bool AcceptPending(int listen_fd);
  // True when `fd` must be refused (limits above).
  bool OverLimits(int fd);
  void Track(int fd);
  void RefuseWithSpare(int listen_fd, int accept_errno);

  const std::vector<int> listen_fds_;
  const int port_;
  const ConnectionLimits limits_;
  int wake_fd_ = -1;   // eventfd that ends the loop
  int spare_fd_ = -1;  // released under EMFILE to accept-and-close
  grpc::experimental::ExternalConnectionAcceptor* acceptor_ = nullptr;
  std::thread thread_;
  // The accepted sockets gRPC may still hold: descriptor and inode (a number
  // reused for another file has a different inode). Loop thread only.
  std::vector<std::pair<int, uint64_t>> open_;
  LogThrottle refused_log_{absl::Seconds(10)};
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_CONNECTION_LISTENER_H_
