// RunCli: the whole `deepsweep` program as a library call, so tests can run
// any command line against real servers and check its output and exit code.
//
//   deepsweep [--server ADDR] [--token T] [--tls-ca FILE] [--tls-server-name N]
//             [--db FILE] [--timeout S] COMMAND ...
//
// Global flags may also follow the command. The server and token default to
// the values main() read from DEEPSWEEP_SERVER / DEEPSWEEP_TOKEN, then to
// 127.0.0.1:7070 and none. Exit codes: 0 success, 1 a command failed (one
// line on the error stream), 2 or more a usage error (CLI11's codes).
//
// Thread-safety: one call at a time per set of streams.
#ifndef DEEPSWEEP_CLIENT_CLI_H_
#define DEEPSWEEP_CLIENT_CLI_H_

#include <string>
#include <vector>

#include "client/command_context.h"

namespace deepsweep::client {

// Defaults that come from the environment (read by main, never here).
struct CliEnvironment {
  std::string server;  // DEEPSWEEP_SERVER; empty = 127.0.0.1:7070
  std::string token;   // DEEPSWEEP_TOKEN; empty = none
};

// `args` excludes the program name. `open_results_file` serves --db.
int RunCli(const std::vector<std::string>& args, const CliEnvironment& environment,
           const CommandIo& io, const ResultsFileOpener& open_results_file);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_CLI_H_
