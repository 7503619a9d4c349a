// Denial of service by idle connections (issue 17, defect 1): a real
// deepsweep-server with 256 descriptors, 300 TCP connections that send
// nothing, held then closed; the server must answer SERVING again within
// seconds. gRPC 1.51's own accept loop stops for good at the first EMFILE.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rpc/health_check.h"
#include "tests/testing/child_process.h"

namespace deepsweep::server {
namespace {

using ::deepsweep::testing::ChildProcess;
using ::deepsweep::testing::FreeLoopbackPort;
using ::deepsweep::testing::ReadLog;
using ::deepsweep::testing::WaitUntilServing;

constexpr int kIdleConnections = 300;

// A connected TCP socket to 127.0.0.1:`port`, or -1. Loopback connects
// complete in the kernel's accept queue whether or not the server accepts.
int ConnectIdle(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Connections waiting in the accept queue of the socket listening on `port`
// (the rx_queue of its LISTEN row in /proc/net/tcp or tcp6), or -1.
int AcceptQueueLength(int port) {
  const std::string port_suffix = absl::StrFormat(":%04X", port);
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream table(path);
    std::string line;
    std::getline(table, line);  // header
    while (std::getline(table, line)) {
      std::istringstream row(line);
      std::string slot, local_address, remote_address, state, queues;
      row >> slot >> local_address >> remote_address >> state >> queues;
      if (!absl::EndsWith(local_address, port_suffix) || state != "0A") continue;
      return static_cast<int>(std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16));
    }
  }
  return -1;
}

rpc::ClientOptions HealthOptions(int port, absl::Duration timeout) {
  rpc::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.call_timeout = timeout;
  options.max_reconnect_backoff = absl::Milliseconds(100);
  return options;
}

bool Serving(int port, absl::Duration timeout) {
  absl::StatusOr<rpc::ServingStatus> status = rpc::CheckHealth(HealthOptions(port, timeout));
  return status.ok() && *status == rpc::ServingStatus::kServing;
}

// Runs the storm against a server started with `extra_flags`; prints how long
// it took to answer SERVING after the connections closed, or fails.
void ExpectRecoveryAfterStorm(const std::vector<std::string>& extra_flags) {
  // This process holds the 300 sockets: give it every descriptor it may have.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_cur, kIdleConnections + 64u);

  const int port = FreeLoopbackPort();
  const std::string log = ::testing::TempDir() + "/descriptor_exhaustion_server.log";
  std::remove(log.c_str());
  std::vector<std::string> argv = {"/usr/bin/prlimit",
                                   "--nofile=256:256",
                                   "--",
                                   DEEPSWEEP_SERVER_BINARY,
                                   "--address",
                                   absl::StrCat("127.0.0.1:", port),
                                   "--db",
                                   ":memory:",
                                   "--log-level",
                                   "warn"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  ChildProcess server(argv, log);
  ASSERT_TRUE(server.started());
  ASSERT_TRUE(WaitUntilServing(port)) << ReadLog(log);

  std::vector<int> idle;
  for (int i = 0; i < kIdleConnections; ++i) {
    const int fd = ConnectIdle(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  // Held until the server has taken every connection from its accept queue
  // (at most 5 s: a server whose accept loop died never does).
  ASSERT_GE(AcceptQueueLength(port), 0) << "no listening socket on port " << port;
  const absl::Time hold_deadline = absl::Now() + absl::Seconds(5);
  while (AcceptQueueLength(port) != 0 && absl::Now() < hold_deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // polling a condition, bounded above
  }
  std::printf("accept queue after the storm: %d\n", AcceptQueueLength(port));
  for (int fd : idle) close(fd);

  const absl::Time closed = absl::Now();
  const absl::Time deadline = closed + absl::Seconds(10);
  bool serving = false;
  while (!serving && absl::Now() < deadline) serving = Serving(port, absl::Seconds(1));
  ASSERT_TRUE(serving) << "not SERVING 10 s after the idle connections closed\n" << ReadLog(log);
  std::printf("SERVING again %.0f ms after the %d idle connections closed\n",
              absl::ToDoubleMilliseconds(absl::Now() - closed), kIdleConnections);
}

TEST(DescriptorExhaustionTest, ServesAgainAfterIdleConnectionsFillTheDescriptorTable) {
  ExpectRecoveryAfterStorm({});
}

// Without a reserve the descriptor table really fills (accept4 fails with
// EMFILE): the spare descriptor lets the loop refuse and carry on.
TEST(DescriptorExhaustionTest, ServesAgainAfterEmfileWithNoReserve) {
  ExpectRecoveryAfterStorm({"--descriptor-reserve", "0"});
}

}  // namespace
}  // namespace deepsweep::server
