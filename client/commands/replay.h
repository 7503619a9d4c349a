// `deepsweep replay TRIAL [--attempt N] [--threads T] [--histogram-bins B]
//                  [--jacobian-examples J] [--stuck-after U --stuck-error E]`
// re-runs a stored trial here and checks that every stored metric comes out
// bit for bit the same (client/replay.h). Exit 0 when identical; 1 with the
// first difference otherwise. The runner flags must match the worker's
// (their defaults are the worker's defaults).
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_REPLAY_H_
#define DEEPSWEEP_CLIENT_COMMANDS_REPLAY_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"
#include "client/replay.h"

namespace deepsweep::client {

absl::Status Replay(CommandContext& context, const std::string& trial,
                    const ReplayOptions& options);

void AddReplayCommand(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_REPLAY_H_
