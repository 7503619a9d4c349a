// `deepsweep data ...`: commands that look at datasets.
//   data preview --dataset NAME [--path DIR] [--color grey|rgb] [--seed N]
//                [--count 64] [--columns 0] [--zoom 3] --out grid.png
//
// Thread-safety: registration happens once, from main.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_DATA_H_
#define DEEPSWEEP_CLIENT_COMMANDS_DATA_H_

#include "CLI/CLI.hpp"
#include "client/command_context.h"

namespace deepsweep::client {

// Adds the `data` command and its subcommands to `app`.
void AddDataCommands(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_DATA_H_
