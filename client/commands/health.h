// `deepsweep health [--service NAME]`: asks the server's gRPC health service
// whether it is serving. Prints the status; exits 0 for SERVING and 1 for
// anything else (NOT_SERVING, unknown, unreachable), which is what a Docker
// HEALTHCHECK needs.
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_HEALTH_H_
#define DEEPSWEEP_CLIENT_COMMANDS_HEALTH_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

absl::Status CheckServerHealth(CommandContext& context, const std::string& service);

void AddHealthCommand(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_HEALTH_H_
