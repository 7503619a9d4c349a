#include "worker/worker_process.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "common/clock.h"
#include "common/signals.h"
#include "common/status_macros.h"
#include "ml/random.h"
#include "rpc/read_file.h"
#include "spdlog/spdlog.h"
#include "worker/auto_plan.h"
#include "worker/sleeper.h"
#include "worker/worker_identity.h"

namespace deepsweep::worker {
namespace {

// The process's auto plan: the given one, or the measured or cached one (after
// the ISA: the plan is measured with the kernels the process runs).
absl::Status SelectAutoPlan(const WorkerProcessOptions& options) {
  if (options.auto_plan.has_value()) return ml::SelectAutoPlan(*options.auto_plan);
  AutoPlanOptions plan_options{.cache_dir = options.cache_dir};
  plan_options.timer.threads = options.runner.threads;
  ASSIGN_OR_RETURN(const AutoPlanResult plan,
                   LoadOrMeasureAutoPlan(plan_options, RealStepTimers()));
  for (const std::string& warning : plan.warnings) spdlog::warn("{}", warning);
  spdlog::info("auto plan {} ({})", ml::AutoPlanText(plan.plan),
               plan.from_cache           ? "from the cache " + plan.cache_file
               : plan.cache_file.empty() ? std::string("measured now, not cached")
                                         : "measured now, cached in " + plan.cache_file);
  for (const std::string& line : plan.summary) spdlog::info("  {}", line);
  return ml::SelectAutoPlan(plan.plan);
}

}  // namespace

absl::Status RunWorkerUntilSignal(WorkerProcessOptions options) {
  if (!options.token_file.empty()) {
    if (!options.coordinator.token.empty()) {
      return absl::InvalidArgumentError("give the token or the token file, not both");
    }
    ASSIGN_OR_RETURN(std::string token, rpc::ReadFileContents(options.token_file, "token file"));
    options.coordinator.token = std::string(absl::StripAsciiWhitespace(token));
  }
  // Before the measurement: a SIGTERM during it stops the worker cleanly after.
  RETURN_IF_ERROR(InstallTerminationHandlers());
  if (options.kernels.has_value()) RETURN_IF_ERROR(ml::SelectKernelIsa(*options.kernels));
  RETURN_IF_ERROR(SelectAutoPlan(options));
  if (options.loop.identity.worker_id.empty()) options.loop.identity = DescribeThisWorker();
  const WorkerInfo& me = options.loop.identity;
  // Distinct jitter per worker, even for equal pids on different hosts.
  options.loop.backoff.seed =
      ml::DeriveSeed(static_cast<uint64_t>(me.pid), std::hash<std::string>{}(me.host));
  ASSIGN_OR_RETURN(std::unique_ptr<rpc::CoordinatorClient> client,
                   rpc::ConnectCoordinator(options.coordinator));

  DatasetCache datasets(options.datasets);
  TrialRunner runner(&datasets, SystemClock::Default(), options.runner);
  RealSleeper sleeper;
  WorkerLoop loop(client.get(), &runner, SystemClock::Default(), &sleeper, options.loop);
  spdlog::info("worker {} (version {}, {} cores, {} threads per trial, compute path {}) serving {}",
               me.worker_id, me.version, me.cores, options.runner.threads, ml::ComputePath(),
               options.coordinator.target);

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (std::optional<int> signal = WaitForTerminationSignal(absl::Milliseconds(200))) {
        spdlog::info("signal {}: stopping (a trial in training is snapshotted and released)",
                     *signal);
        loop.Shutdown();
        const absl::Time deadline = absl::Now() + options.grace;
        while (!finished.load()) {
          if (absl::Now() >= deadline) {
            spdlog::error("grace of {} ran out before the trial was released; exiting",
                          absl::FormatDuration(options.grace));
            spdlog::shutdown();
            std::_Exit(EXIT_FAILURE);
          }
          absl::SleepFor(absl::Milliseconds(50));
        }
        return;
      }
    }
  });
  absl::Status status = loop.Run();
  finished.store(true);
  watcher.join();
  const WorkerStats s = loop.stats();
  spdlog::info(
      "worker {} done: {} trials taken, {} completed, {} failed, {} released, {} dropped, {} "
      "checkpoints sent",
      me.worker_id, s.trials_taken, s.trials_completed, s.trials_failed, s.trials_released,
      s.trials_dropped, s.checkpoints_sent);
  return status;
}

}  // namespace deepsweep::worker
