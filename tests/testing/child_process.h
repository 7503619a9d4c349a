// Child processes for end-to-end tests: the real deepsweep-server and
// deepsweep-worker binaries on loopback.
//
// ChildProcess spawns a program (stdout and stderr to a log file, so a failed
// test can show what the child said) and kills it with SIGKILL on destruction
// if nobody reaped it. FreeLoopbackPort() finds a port for a server to bind;
// WaitUntilServing() blocks on gRPC's connection readiness and the health
// service, never on a sleep.
//
// Thread-safety: a ChildProcess is used by one thread.
#ifndef DEEPSWEEP_TESTS_TESTING_CHILD_PROCESS_H_
#define DEEPSWEEP_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace deepsweep::testing {

// A port nothing listens on right now (the kernel's pick for port 0).
int FreeLoopbackPort();

// True once a server on 127.0.0.1:`port` answers its health check as
// SERVING; false after 60 s.
bool WaitUntilServing(int port);

class ChildProcess {
 public:
  // Spawns argv[0] with `argv`; empty `log_path` = inherit the streams.
  explicit ChildProcess(std::vector<std::string> argv, const std::string& log_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sends `signal_number` and reaps the child; returns its wait status.
  int Kill(int signal_number);
  // Reaps the child (blocking); returns its wait status.
  int Wait();
  // Reaps the child if it exits within `timeout_ms` (polling); its wait
  // status, or nullopt while it still runs.
  std::optional<int> WaitFor(int timeout_ms);

 private:
  pid_t pid_ = 0;
};

// The text of a file (a child's log), or "" when unreadable.
std::string ReadLog(const std::string& path);

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_CHILD_PROCESS_H_
