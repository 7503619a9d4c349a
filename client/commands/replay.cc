#include "client/commands/replay.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/trial_fields.h"

namespace deepsweep::client {

absl::Status Replay(CommandContext& context, const std::string& trial,
                    const ReplayOptions& options) {
  ASSIGN_OR_RETURN(const TrialId id, ParseTrialId(trial));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  ASSIGN_OR_RETURN(const ReplayReport report,
                   ReplayTrial(*coordinator, id, options, context.clock()));
  const std::string label = TrialLabel(report.trial.id, report.trial.spec);
  const std::string paths = absl::StrCat("trained on compute path '", report.stored_path,
                                         "', replayed on '", report.replayed_path, "'");
  if (report.different_path && !report.first_difference.empty()) {
    // Not a mismatch: another ISA or BLAS core rounds differently.
    context.out() << label << " was " << paths
                  << ": different paths round differently, so it was not compared bit for bit "
                     "(first difference: "
                  << report.first_difference << ")\n";
    return absl::OkStatus();
  }
  if (!report.first_difference.empty()) {
    // Data loss: the stored results are not what this binary computes.
    return absl::DataLossError(absl::StrCat(label, " does not replay: ", report.first_difference));
  }
  context.out() << label << " replays bit for bit: " << report.checkpoints_compared
                << " checkpoints and " << report.layer_stats_compared
                << " layer statistics identical (wall time aside)"
                << (report.different_path ? absl::StrCat(", although ", paths) : "") << "\n";
  return absl::OkStatus();
}

void AddReplayCommand(CLI::App& app, CommandContext& context) {
  auto trial = std::make_shared<std::string>();
  auto options = std::make_shared<ReplayOptions>();
  CLI::App* replay = app.add_subcommand(
      "replay", "Re-run a stored trial here and compare every stored metric bit for bit");
  replay->add_option("TRIAL", *trial, "Trial id")->required();
  replay->add_option_function<int>(
      "--attempt", [options](const int& value) { options->attempt = value; },
      "Attempt to compare (default: the latest)");
  worker::TrialRunnerOptions& runner = options->runner;
  replay
      ->add_option("--threads", runner.threads,
                   "threads for the replay (the results do not depend on it)")
      ->capture_default_str();
  replay->callback([&context, trial, options] {
    context.Run([&] { return Replay(context, *trial, *options); });
  });
}

}  // namespace deepsweep::client
