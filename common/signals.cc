#include "common/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deepsweep {
namespace {

// The self-pipe: the handler writes the signal number, waiters read it.
std::atomic<int> g_read_fd{-1};
std::atomic<int> g_write_fd{-1};

extern "C" void OnTerminationSignal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  // A full pipe already holds a pending signal; losing this one is harmless.
  [[maybe_unused]] const ssize_t written = write(g_write_fd.load(), &byte, 1);
  errno = saved_errno;
}

struct sigaction PipeAction() {
  struct sigaction action = {};
  action.sa_handler = OnTerminationSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  return action;
}

absl::Status Install() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  g_read_fd.store(fds[0]);
  g_write_fd.store(fds[1]);
  const struct sigaction action = PipeAction();
  for (int signal_number : {SIGTERM, SIGINT}) {
    if (sigaction(signal_number, &action, nullptr) != 0) {
      return absl::InternalError(absl::StrCat("sigaction: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status InstallTerminationHandlers() {
  static std::once_flag once;
  static absl::Status status;
  std::call_once(once, [] { status = Install(); });
  return status;
}

absl::Status InstallReloadHandler() {
  if (g_write_fd.load() < 0) {
    return absl::FailedPreconditionError("InstallTerminationHandlers() must come first");
  }
  const struct sigaction action = PipeAction();
  if (sigaction(SIGHUP, &action, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction(SIGHUP): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::optional<int> WaitForTerminationSignal(absl::Duration timeout) {
  pollfd poll_fd = {g_read_fd.load(), POLLIN, 0};
  const int ready = poll(&poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  unsigned char byte = 0;
  if (ready > 0 && read(poll_fd.fd, &byte, 1) == 1) return static_cast<int>(byte);
  return std::nullopt;
}

}  // namespace deepsweep
