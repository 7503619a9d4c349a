// CommandContext: what every `deepsweep` command works with — its output
// streams, the clock, and the coordinator it talks to.
//
// Commands never open connections themselves: Reader() gives the coordinator
// for read commands (a results file with --db, else the server) and Writer()
// the one for commands that change something (always the server). Both
// connect on first use, so commands that need no coordinator (submit
// --dry-run, plot rendering errors, --help) never touch the network.
//
// A command's CLI11 callback calls Run(action): an error the action returns
// is printed as one line "deepsweep: <message>" on the error stream and ends
// the program with exit code 1 (CLI::RuntimeError, which RunCli turns into the
// exit code), never as a stack trace.
//
// Thread-safety: one context per program run, used from its thread.
#ifndef DEEPSWEEP_CLIENT_COMMAND_CONTEXT_H_
#define DEEPSWEEP_CLIENT_COMMAND_CONTEXT_H_

#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "rpc/coordinator_client.h"
#include "rpc/grpc_coordinator_client.h"

namespace CLI {
class App;
}

namespace deepsweep::client {

// The global connection flags, bound by RunCli.
struct ConnectionFlags {
  // The coordinator, "host:port".
  std::string server;
  // Bearer token sent with every call; empty = none.
  std::string token;
  // PEM CA certificate of the server; setting it turns TLS on.
  std::string tls_ca;
  // Name to check the server's certificate against (default: the host).
  std::string tls_server_name;
  // A results file (SQLite) to read instead of asking the server.
  std::string db;
  // Deadline of each call to the server, in seconds.
  double timeout_seconds = 30;
};

// Opens `path` as a results file for reading.
using ResultsFileOpener =
    std::function<absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>>(const std::string& path)>;

struct CommandIo {
  std::istream* in = nullptr;   // for "-" arguments (a spec on stdin)
  std::ostream* out = nullptr;  // results
  std::ostream* err = nullptr;  // errors and notes
  bool out_is_tty = false;      // redraw `watch` in place, else plain lines
  const Clock* clock = nullptr;
};

class CommandContext {
 public:
  // `open_results_file` serves --db; when empty, --db is refused.
  CommandContext(CommandIo io, ResultsFileOpener open_results_file);
  ~CommandContext();
  CommandContext(const CommandContext&) = delete;
  CommandContext& operator=(const CommandContext&) = delete;

  ConnectionFlags& flags() { return flags_; }
  std::istream& in() { return *io_.in; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }
  bool out_is_tty() const { return io_.out_is_tty; }
  const Clock& clock() const { return *io_.clock; }

  // The coordinator to read from: the results file given with --db, else the
  // server.
  absl::StatusOr<rpc::CoordinatorClient*> Reader();
  // The server, for `command`s that change something; FAILED_PRECONDITION
  // with --db (a results file is read-only here).
  absl::StatusOr<rpc::CoordinatorClient*> Writer(std::string_view command);

  // The gRPC client options the flags describe.
  absl::StatusOr<rpc::ClientOptions> ServerOptions() const;

  // Runs a command's action; on error prints "deepsweep: <message>" and
  // throws CLI::RuntimeError(1) for CLI11 to turn into the exit code.
  void Run(const std::function<absl::Status()>& action);

 private:
  absl::StatusOr<rpc::CoordinatorClient*> Server();

  CommandIo io_;
  ResultsFileOpener open_results_file_;
  ConnectionFlags flags_;
  std::unique_ptr<rpc::CoordinatorClient> server_;
  std::unique_ptr<rpc::CoordinatorClient> results_file_;
};

// A sweep named on the command line by id ("12") or by name ("glorot-quick").
// A name must match exactly one sweep. Errors: NOT_FOUND, or INVALID_ARGUMENT
// for a name several sweeps share (the message lists their ids).
absl::StatusOr<SweepRecord> ResolveSweep(rpc::CoordinatorClient& coordinator,
                                         const std::string& ref);

// Adds "--format table|csv|json" to `command`, bound to `format` (whose value
// is the default).
void AddFormatOption(CLI::App* command, std::string* format);

// A trial id from the command line; INVALID_ARGUMENT when not a positive integer.
absl::StatusOr<TrialId> ParseTrialId(const std::string& text);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMAND_CONTEXT_H_
