// `deepsweep` commands that create, follow and steer sweeps:
//   submit SPEC [--dry-run] [--sample N] [--new]
//                                          expand a spec and submit it (dry run: offline)
//   status [SWEEP] [--format F]            all sweeps, or one in detail with ETA
//   watch SWEEP                            live progress until the sweep ends
//   cancel SWEEP                           stop a sweep
//   retry SWEEP [--states failed,diverged] run failed / diverged trials again
//   workers [--format F]                   the workers the coordinator knows
// SWEEP is an id or a unique sweep name.
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_SWEEPS_H_
#define DEEPSWEEP_CLIENT_COMMANDS_SWEEPS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"
#include "client/format.h"

namespace deepsweep::client {

struct SubmitOptions {
  std::string spec_path;  // "-" = standard input
  bool dry_run = false;   // expand offline and print; submit nothing
  int sample = 10;        // trials of the expansion shown; 0 = all
  // A new sweep even when one of the spec's name exists (see
  // Coordinator::SubmitSweep: an equal spec otherwise returns the existing
  // sweep, a changed one is refused).
  bool new_sweep = false;
};
absl::Status Submit(CommandContext& context, const SubmitOptions& options);

// Without a sweep: one line per sweep. With one: counts, progress bar,
// throughput, ETA, the trials running now and the failed / diverged ones with
// their reasons (csv: the sweep's row; json: also the estimate and those trials).
absl::Status ShowStatus(CommandContext& context, const std::optional<std::string>& sweep,
                        OutputFormat format = OutputFormat::kTable);

absl::Status Watch(CommandContext& context, const std::string& sweep);

absl::Status Cancel(CommandContext& context, const std::string& sweep);

struct RetryOptions {
  std::string sweep;
  std::vector<std::string> states = {"failed", "diverged"};  // also allowed: cancelled
};
absl::Status Retry(CommandContext& context, const RetryOptions& options);

absl::Status ListWorkers(CommandContext& context, OutputFormat format);

// Adds the commands above to `app`; their actions run through `context`.
void AddSweepCommands(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_SWEEPS_H_
