#include "server/connection_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/server_builder.h"
#include "spdlog/spdlog.h"

namespace deepsweep::server {
namespace {

// Connections accepted per listener before the loop looks at the others.
constexpr int kAcceptBurst = 64;
// How long the loop waits before retrying when no descriptor can be had.
constexpr int kBackoffMs = 100;

absl::Status BindError(const std::string& address, const std::string& what) {
  return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", what));
}

absl::StatusOr<int> ListenUnix(const std::string& address, std::string path) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof(un.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", address, ": the socket path is empty or too long"));
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return BindError(address, std::strerror(errno));
  unlink(path.c_str());  // a socket left by an earlier run, as gRPC does
  if (bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof(un)) != 0 || listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    close(fd);
    return BindError(address, std::strerror(error));
  }
  return fd;
}

// Binds one resolved address; returns the descriptor or the errno.
int ListenTcp(const addrinfo& ai, bool v6_only, int* error) {
  const int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = errno;
    return -1;
  }
  const int one = 1;
  const int v6 = v6_only ? 1 : 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (ai.ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
  if (bind(fd, ai.ai_addr, ai.ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    *error = errno;
    close(fd);
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

void SetPort(addrinfo& ai, int port) {
  if (ai.ai_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(ai.ai_addr)->sin_port = htons(static_cast<uint16_t>(port));
  } else if (ai.ai_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(ai.ai_addr)->sin6_port = htons(static_cast<uint16_t>(port));
  }
}

uint64_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

absl::StatusOr<uint64_t> RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

absl::StatusOr<std::unique_ptr<ConnectionListener>> ConnectionListener::Bind(
    const std::string& address, ConnectionLimits limits) {
  if (limits.max_connections <= 0 || limits.descriptor_reserve < 0) {
    return absl::InvalidArgumentError(
        "max_connections must be positive and descriptor_reserve not negative");
  }
  absl::string_view rest = address;
  if (absl::ConsumePrefix(&rest, "unix:")) {
    absl::ConsumePrefix(&rest, "//");
    absl::StatusOr<int> fd = ListenUnix(address, std::string(rest));
    if (!fd.ok()) return fd.status();
    return std::unique_ptr<ConnectionListener>(new ConnectionListener({*fd}, 0, limits));
  }
  if (absl::StartsWith(rest, "unix-abstract:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", address, ": abstract Unix sockets are not supported"));
  }
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&rest, scheme)) break;
  }
  std::string host, port;
  if (absl::StartsWith(rest, "[")) {
    const size_t close = rest.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address ", address, ": expected [v6]:port"));
    }
    host = std::string(rest.substr(1, close - 1));
    port = std::string(rest.substr(close + 2));
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address ", address, ": expected host:port"));
    }
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  }
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 0 || port_number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", address, ": port '", port, "' is not 0-65535"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  const int rc =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &resolved);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", address, ": cannot resolve '", host, "': ", gai_strerror(rc)));
  }
  // With both families (e.g. "localhost", or an empty host), each gets its own
  // socket; a lone IPv6 wildcard also takes IPv4 (dual stack).
  bool has_v4 = false;
  for (addrinfo* ai = resolved; ai != nullptr; ai = ai->ai_next) has_v4 |= ai->ai_family == AF_INET;
  std::vector<int> fds;
  int bound_port = port_number;
  int error = 0;
  for (addrinfo* ai = resolved; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    SetPort(*ai, bound_port);
    const int fd = ListenTcp(*ai, has_v4, &error);
    if (fd < 0) continue;
    fds.push_back(fd);
    bound_port = BoundPort(fd);
  }
  freeaddrinfo(resolved);
  if (fds.empty()) {
    return BindError(address, error != 0 ? std::strerror(error) : "no usable address");
  }
  return std::unique_ptr<ConnectionListener>(
      new ConnectionListener(std::move(fds), bound_port, limits));
}

ConnectionListener::ConnectionListener(std::vector<int> listen_fds, int port,
                                       ConnectionLimits limits)
    : listen_fds_(std::move(listen_fds)), port_(port), limits_(limits) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

ConnectionListener::~ConnectionListener() {
  Stop();
  for (int fd : listen_fds_) close(fd);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (spare_fd_ >= 0) close(spare_fd_);
}

void ConnectionListener::Start(grpc::experimental::ExternalConnectionAcceptor* acceptor) {
  acceptor_ = acceptor;
  thread_ = std::thread([this] { AcceptLoop(); });
}

void ConnectionListener::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    spdlog::error("cannot wake the accept loop: {}", std::strerror(errno));
  }
  thread_.join();
}

void ConnectionListener::AcceptLoop() {
  std::vector<pollfd> polled;
  for (int fd : listen_fds_) polled.push_back({.fd = fd, .events = POLLIN, .revents = 0});
  polled.push_back({.fd = wake_fd_, .events = POLLIN, .revents = 0});
  bool backoff = false;
  while (true) {
    const int ready = poll(polled.data(), polled.size(), backoff ? kBackoffMs : -1);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("accept loop: poll failed: {}", std::strerror(errno));
      backoff = true;
      continue;
    }
    if (polled.back().revents != 0) return;
    if (spare_fd_ < 0) spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
    backoff = false;
    for (size_t i = 0; i + 1 < polled.size(); ++i) {
      if ((polled[i].revents & POLLIN) != 0 && !AcceptPending(polled[i].fd)) backoff = true;
    }
  }
}

bool ConnectionListener::AcceptPending(int listen_fd) {
  for (int i = 0; i < kAcceptBurst; ++i) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      switch (errno) {
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
          return true;
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case EPERM:
          continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
          if (spare_fd_ < 0) return false;
          RefuseWithSpare(listen_fd, errno);
          continue;
        default:
          if (std::optional<int64_t> held = refused_log_.Admit(absl::Now())) {
            spdlog::error("accept failed: {} ({} similar events not logged)", std::strerror(errno),
                          *held);
          }
          return false;
      }
    }
    if (OverLimits(fd)) {
      close(fd);
      continue;
    }
    Track(fd);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on Unix
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters connection;
    connection.listener_fd = listen_fd;
    connection.fd = fd;
    acceptor_->HandleNewConnection(&connection);
  }
  return true;
}

void ConnectionListener::RefuseWithSpare(int listen_fd, int accept_errno) {
  close(spare_fd_);
  spare_fd_ = -1;
  const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) close(fd);
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (std::optional<int64_t> held = refused_log_.Admit(absl::Now())) {
    spdlog::warn(
        "refused a connection: no descriptor left ({}); raise the open-file limit or lower "
        "--max-connections ({} similar events not logged)",
        std::strerror(accept_errno), *held);
  }
}

bool ConnectionListener::OverLimits(int fd) {
  // A tracked descriptor is gone when gRPC closed it: its number is free or
  // names another file now (`fd` itself reuses a number only once closed).
  std::erase_if(open_, [fd](const std::pair<int, uint64_t>& c) {
    return c.first == fd || InodeOf(c.first) != c.second;
  });
  rlimit limit{};
  const bool near_fd_limit =
      getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<uint64_t>(fd) + limits_.descriptor_reserve >= limit.rlim_cur;
  const bool too_many = static_cast<int>(open_.size()) >= limits_.max_connections;
  if (!near_fd_limit && !too_many) return false;
  if (std::optional<int64_t> held = refused_log_.Admit(absl::Now())) {
    if (too_many) {
      spdlog::warn(
          "refused a connection: {} connections open, the most allowed "
          "(--max-connections) ({} similar events not logged)",
          open_.size(), *held);
    } else {
      spdlog::warn(
          "refused a connection: descriptor {} is within {} of the open-file limit {} "
          "(--descriptor-reserve) ({} similar events not logged)",
          fd, limits_.descriptor_reserve, static_cast<uint64_t>(limit.rlim_cur), *held);
    }
  }
  return true;
}

void ConnectionListener::Track(int fd) { open_.emplace_back(fd, InodeOf(fd)); }

}  // namespace deepsweep::server
