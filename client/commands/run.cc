#include "client/commands/run.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/commands/results.h"
#include "client/commands/sweeps.h"
#include "common/signals.h"
#include "common/status_macros.h"
#include "rpc/local_coordinator_client.h"
#include "rpc/read_file.h"
#include "store/sqlite_sweep_store.h"
#include "worker/dataset_cache.h"
#include "worker/sleeper.h"
#include "worker/trial_runner.h"
#include "worker/worker_pool.h"

namespace deepsweep::client {
namespace {

absl::StatusOr<std::string> SpecText(CommandContext& context, const std::string& path) {
  if (path != "-") return rpc::ReadFileContents(path, "sweep spec");
  std::stringstream text;
  text << context.in().rdbuf();
  return text.str();
}

}  // namespace

absl::Status RunEmbedded(CommandContext& context, const RunOptions& options) {
  const std::string db = context.flags().db;
  if (db.empty()) {
    return absl::InvalidArgumentError(
        "run needs --db FILE: the SQLite file that keeps the sweep and its results");
  }
  if (options.workers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--workers must be at least 1, got ", options.workers));
  }
  if (!(options.lease_ttl_seconds > 0)) {
    return absl::InvalidArgumentError("--lease-ttl must be positive");
  }
  ASSIGN_OR_RETURN(const std::string spec, SpecText(context, options.spec_path));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> store, SqliteSweepStore::Open(db));
  rpc::LocalClientOptions client_options;
  client_options.coordinator.lease_ttl = absl::Seconds(options.lease_ttl_seconds);
  auto owned = std::make_unique<rpc::LocalCoordinatorClient>(std::move(store), &context.clock(),
                                                             client_options);
  rpc::CoordinatorClient* coordinator = owned.get();

  // The watch and table commands read through a context whose "results file"
  // is this in-process coordinator, so they see its changes at once.
  CommandContext local(
      CommandIo{&context.in(), &context.out(), &context.err(), context.out_is_tty(),
                &context.clock()},
      [&owned](const std::string&) -> absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>> {
        if (owned == nullptr) return absl::InternalError("opened twice");
        return std::move(owned);
      });
  local.flags().db = db;
  RETURN_IF_ERROR(local.Reader().status());

  // The coordinator's own rule: the same spec again gives back its sweep.
  ASSIGN_OR_RETURN(const SubmittedSweep submitted,
                   coordinator->SubmitSweep(spec, {.new_sweep = options.new_sweep}));
  const SweepRecord* sweep = &submitted.sweep;
  if (!submitted.existing) {
    context.out() << "sweep " << sweep->id << " '" << sweep->name << "': " << sweep->counts.total()
                  << " trials, " << options.workers << " worker threads\n";
  } else if (sweep->state == SweepState::kActive) {
    context.out() << "resuming sweep " << sweep->id << " '" << sweep->name << "' ("
                  << sweep->counts.done() << "/" << sweep->counts.total() << " done)\n";
  } else {
    context.out() << "sweep " << sweep->id << " '" << sweep->name << "' of this spec is already "
                  << SweepStateName(sweep->state) << " (" << sweep->counts.done() << "/"
                  << sweep->counts.total() << " done): showing its results. --new runs the spec "
                  << "again as a new sweep"
                  << (sweep->state == SweepState::kCancelled
                          ? absl::StrCat("; deepsweep --db ", db, " retry ", sweep->id,
                                         " --states cancelled runs the cancelled trials")
                          : std::string())
                  << "\n";
  }

  worker::DatasetCache datasets;
  worker::TrialRunner runner(&datasets, &context.clock(),
                             worker::TrialRunnerOptions{.threads = options.threads});
  worker::RealSleeper sleeper;
  worker::WorkerPool pool(coordinator, &runner, &context.clock(), &sleeper,
                          worker::WorkerPoolOptions{.workers = options.workers});
  RETURN_IF_ERROR(InstallTerminationHandlers());
  pool.Start();
  std::atomic<bool> watching{true};
  std::thread interrupts([&] {
    while (watching.load()) {
      if (!WaitForTerminationSignal(absl::Milliseconds(200)).has_value()) continue;
      // The running trials go back to pending (committed before Wait
      // returns), so the same command resumes the sweep. The progress stream
      // would wait for a sweep that no longer moves, so leave from here.
      context.err() << "\ninterrupted: releasing the running trials; run the same command to "
                       "resume\n";
      pool.Shutdown();
      pool.Wait().IgnoreError();
      context.err().flush();
      std::_Exit(130);
    }
  });
  const std::string id = absl::StrCat(sweep->id);
  const absl::Status watched = Watch(local, id);
  watching.store(false);
  interrupts.join();
  pool.Shutdown();
  const absl::Status workers = pool.Wait();
  RETURN_IF_ERROR(watched);
  RETURN_IF_ERROR(workers);

  context.out() << '\n';
  RETURN_IF_ERROR(ShowPaperTable(local, PaperTableOptions{.args = {id}}));
  context.out() << "\nresults: " << db << " (sweep " << id << ")\n"
                << "  deepsweep --db " << db << " summary " << id << "\n"
                << "  sqlite3 " << db << " '.tables'\n";
  return absl::OkStatus();
}

void AddRunCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "Run a sweep on this machine: in-process coordinator on --db FILE, K worker threads");
  run->add_option("SPEC", options->spec_path, "Spec file, or - for standard input")->required();
  run->add_option("--workers", options->workers, "Worker threads")->capture_default_str();
  run->add_option("--threads", options->threads,
                  "threads per trial (the results are the same for every count)")
      ->capture_default_str();
  run->add_option("--lease-ttl", options->lease_ttl_seconds, "Lease time to live, seconds")
      ->capture_default_str();
  run->add_flag("--new", options->new_sweep,
                "Run the spec as a new sweep even if the file has a sweep of its name");
  run->callback(
      [&context, options] { context.Run([&] { return RunEmbedded(context, *options); }); });
}

}  // namespace deepsweep::client
