// `deepsweep` commands that query finished work:
//   results [SWEEP] [FILTER...] [--sort F] [--limit N] [--columns a,b] [--format F]
//   summary [SWEEP] [FILTER...] [--by a,b] [--confidence C] [--all-pairs]
//           [--comparisons] [--format F]
//   table   [SWEEP] [FILTER...] [--confidence C] [--mix-budgets] [--format F]
// SWEEP is an id or a unique name (a first argument that is no condition);
// FILTERs are conditions such as activation=tanh 'depth>=3' depth:ge:3
// (client/trial_filter.h).
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_RESULTS_H_
#define DEEPSWEEP_CLIENT_COMMANDS_RESULTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

// The trials "[SWEEP] FILTER..." selects (SWEEP: a first argument that is no
// condition), ordered by `sort` ('-' prefix = descending), at most `limit`
// (0 = all). Filters are checked before any call.
absl::StatusOr<std::vector<TrialRecord>> QueryTrials(CommandContext& context,
                                                     const std::vector<std::string>& args,
                                                     std::string sort, int64_t limit);

// The columns `results` can show, in their default order for csv and json.
const std::vector<std::string>& ResultColumns();

struct ResultsOptions {
  std::vector<std::string> args;     // [SWEEP] FILTER...
  std::string sort = "id";           // field; '-' prefix = descending
  int64_t limit = 0;                 // 0 = all
  std::vector<std::string> columns;  // empty = a compact set (table) or all (csv, json)
  std::string format = "table";
};
absl::Status ShowResults(CommandContext& context, const ResultsOptions& options);

struct SummaryCommandOptions {
  std::vector<std::string> args;  // [SWEEP] FILTER...
  std::vector<std::string> by;    // grouping fields; empty = those that vary
  double confidence = 0.95;
  bool all_pairs = false;
  bool comparisons = false;  // csv: print the comparisons instead of the configurations
  std::string format = "table";
};
absl::Status ShowSummary(CommandContext& context, const SummaryCommandOptions& options);

struct PaperTableOptions {
  std::vector<std::string> args;  // [SWEEP] FILTER...
  double confidence = 0.95;
  // Allow trials of sweeps with different training budgets (updates x batch
  // size); refused otherwise, since their cells are not comparable.
  bool mix_budgets = false;
  std::string format = "table";
};
absl::Status ShowPaperTable(CommandContext& context, const PaperTableOptions& options);

void AddResultCommands(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_RESULTS_H_
