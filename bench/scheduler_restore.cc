// scheduler_restore: what a coordinator restart costs when a large ASHA sweep
// is live: the in-memory index and the sweep's scheduler rebuilt from SQLite
// (Coordinator::LoadLocked -> AttachSchedulerLocked -> Scheduler::Restore).
//
//   scheduler_restore generate --db FILE [--trials 100000] [--threads 2]
//   scheduler_restore measure  --db FILE
//
// generate: a fresh SQLite file holding one ASHA sweep (1,000 learning rates
//   x `--trials / 1000` seeds, grouped by nothing but the whole sweep, rungs at
//   1,000 / 3,000 / 9,000 of 20,000 updates, checkpoints every 1,000 plus step
//   0), driven through an in-process Coordinator: each trial is acquired, its
//   21 checkpoints reported in one call (the coordinator keeps them up to the
//   decision, as it does for a worker) and completed unless pruned. The last
//   100 trials are left pending and the 2 before them leased after step 0, so the
//   sweep is live when the file is reopened.
// measure: in a fresh process, (1) SqliteSweepStore::Open, (2) the store's
//   LoadUnfinished alone (what the index needs), (3) a Coordinator's first
//   call, AcquireTrial, on a second fresh store: the whole restart (index and
//   scheduler); (4) Scheduler::Restore alone over the checkpoints already in
//   memory; and the process's RSS after each. (3) - (2) is the scheduler's
//   share: its store reads plus (4).
// Run by hand; docs/PERFORMANCE.md has the figures.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "core/coordinator.h"
#include "core/scheduler.h"
#include "core/splitmix64.h"
#include "core/sweep_spec.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep {
namespace {

struct Flags {
  std::string mode;
  std::string db;
  int trials = 100000;
  int threads = 2;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int64_t RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

std::string Spec(int trials) {
  std::string rates;
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&rates, i == 0 ? "" : ", ", 1e-4 * (1 + i));
  }
  return absl::StrCat("name: restore-bench\n",
                      "training: {updates: 20000, checkpoint_every: 1000}\n",
                      "grid:\n  learning_rate: [", rates, "]\n", "seeds: ", trials / 1000, "\n",
                      "schedule: {rule: asha, min_updates: 1000, eta: 3}\n");
}

// The 21 checkpoints a worker would report for `trial`: validation error
// falling with the step, best near learning rate 0.05, noise from the seed.
std::vector<Checkpoint> Curve(const TrialRecord& trial) {
  SplitMix64 noise(trial.spec.seed);
  const double level = 0.2 + 4 * std::abs(trial.spec.learning_rate - 0.05);
  std::vector<Checkpoint> out;
  for (int64_t step = 0; step <= 20000; step += 1000) {
    const double e = level + 0.5 / (1 + step / 1000.0) + 0.05 * noise.NextUnit();
    out.push_back(Checkpoint{.step = step,
                             .examples_seen = step * 10,
                             .train_nll = 2 * e,
                             .test_error = e,
                             .test_nll = 2 * e,
                             .validation_error = e,
                             .validation_nll = 2 * e,
                             .wall_seconds = step * 1e-3});
  }
  return out;
}

absl::Status Generate(const Flags& f) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(f.db + suffix);
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> store, SqliteSweepStore::Open(f.db));
  Coordinator coordinator(store.get(), SystemClock::Default());
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(SweepRecord sweep, coordinator.CreateSweep(Spec(f.trials)));
  std::printf("created sweep %lld: %lld trials in %.1f s\n", static_cast<long long>(sweep.id),
              static_cast<long long>(sweep.counts.pending), Seconds(start));

  const int to_run = f.trials - 100;  // the last 100 stay pending
  absl::Mutex mu;
  int started = 0;
  absl::Status failure;
  std::vector<std::thread> threads;
  for (int w = 0; w < f.threads; ++w) {
    threads.emplace_back([&, w] {
      const WorkerInfo me{.worker_id = absl::StrCat("w", w), .host = "bench"};
      while (true) {
        int n;
        {
          absl::MutexLock lock(&mu);
          if (!failure.ok() || started == to_run) return;
          n = started++;
        }
        absl::StatusOr<Acquisition> a = coordinator.AcquireTrial(me);
        absl::Status s = a.status();
        if (s.ok() && !a->trial.has_value()) s = absl::InternalError("no pending trial");
        if (s.ok()) {
          std::vector<Checkpoint> curve = Curve(*a->trial);
          // The two last trials run are left leased after their first checkpoint.
          if (n >= to_run - 2) curve.resize(1);
          absl::StatusOr<RenewResult> r =
              coordinator.ReportCheckpoints(a->trial->id, a->lease->lease_id, curve);
          s = r.status();
          if (s.ok() && !r->stopped.has_value() && n < to_run - 2) {
            s = coordinator.CompleteTrial(a->trial->id, a->lease->lease_id, {});
          }
        }
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          failure.Update(s);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  RETURN_IF_ERROR(failure);
  ASSIGN_OR_RETURN(SweepRecord after, coordinator.GetSweep(sweep.id));
  store->Flush();
  std::printf(
      "ran %d trials in %.1f s: succeeded %lld, pruned %lld, leased %lld, pending %lld; "
      "file %.1f MB\n",
      to_run, Seconds(start), static_cast<long long>(after.counts.succeeded),
      static_cast<long long>(after.counts.pruned), static_cast<long long>(after.counts.leased),
      static_cast<long long>(after.counts.pending),
      static_cast<double>(std::filesystem::file_size(f.db)) / 1e6);
  return absl::OkStatus();
}

absl::Status Measure(const Flags& f) {
  if (!std::filesystem::exists(f.db)) return absl::NotFoundError(f.db + " does not exist");
  std::printf("rss at start: %lld kB\n", static_cast<long long>(RssKb()));

  auto t = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> store, SqliteSweepStore::Open(f.db));
  std::printf("(1) SqliteSweepStore::Open: %.3f s\n", Seconds(t));

  t = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(UnfinishedWork work, store->LoadUnfinished());
  std::printf("(2) LoadUnfinished: %.3f s (%zu sweeps, %zu unfinished trials), rss %lld kB\n",
              Seconds(t), work.sweeps.size(), work.trials.size(), static_cast<long long>(RssKb()));
  if (work.sweeps.size() != 1) return absl::FailedPreconditionError("expected one live sweep");

  // The whole restart, as deepsweep-server does it on its first call.
  {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteSweepStore> fresh, SqliteSweepStore::Open(f.db));
    const int64_t rss_before = RssKb();
    Coordinator coordinator(fresh.get(), SystemClock::Default());
    t = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(Acquisition a, coordinator.AcquireTrial({.worker_id = "m", .host = "b"}));
    std::printf(
        "(3) Coordinator restart (first AcquireTrial: index + scheduler): %.3f s, rss +%lld kB "
        "(got trial %lld)\n",
        Seconds(t), static_cast<long long>(RssKb() - rss_before),
        static_cast<long long>(a.trial.has_value() ? a.trial->id : 0));
  }

  // The scheduler alone, from checkpoints read the way the coordinator reads
  // them (per trial and attempt, without layer statistics).
  ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(work.sweeps[0].spec_yaml));
  t = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::vector<TrialRecord> trials,
                   store->ListTrials(TrialQuery{.sweep_id = work.sweeps[0].id}));
  const double list_s = Seconds(t);
  t = std::chrono::steady_clock::now();
  std::vector<std::vector<Checkpoint>> checkpoints(trials.size());
  int64_t rows = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    for (int attempt = 1; attempt <= trials[i].attempt; ++attempt) {
      ASSIGN_OR_RETURN(std::vector<Checkpoint> some,
                       store->GetCheckpoints(trials[i].id, attempt, /*with_layer_stats=*/false));
      rows += static_cast<int64_t>(some.size());
      for (Checkpoint& c : some) checkpoints[i].push_back(std::move(c));
    }
  }
  const double read_s = Seconds(t);
  Scheduler scheduler(spec.schedule);
  const int64_t rss_before = RssKb();
  t = std::chrono::steady_clock::now();
  for (size_t i = 0; i < trials.size(); ++i) {
    scheduler.Restore(trials[i].id, trials[i].spec, checkpoints[i]);
  }
  std::printf(
      "(4) ListTrials %.3f s (%zu trials), GetCheckpoints per trial %.3f s (%lld rows), "
      "Scheduler::Restore %.3f s, scheduler rss +%lld kB\n",
      list_s, trials.size(), read_s, static_cast<long long>(rows), Seconds(t),
      static_cast<long long>(RssKb() - rss_before));
  return absl::OkStatus();
}

}  // namespace
}  // namespace deepsweep

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  deepsweep::Flags f;
  if (argc >= 2) f.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--db") f.db = argv[i + 1];
    if (name == "--trials") f.trials = std::atoi(argv[i + 1]);
    if (name == "--threads") f.threads = std::atoi(argv[i + 1]);
  }
  if (f.db.empty() || (f.mode != "generate" && f.mode != "measure") || f.trials < 1000 ||
      f.trials % 1000 != 0) {
    std::fprintf(stderr,
                 "usage: scheduler_restore generate|measure --db FILE [--trials N (a multiple "
                 "of 1000)] [--threads T]\n");
    return 2;
  }
  const absl::Status s = f.mode == "generate" ? deepsweep::Generate(f) : deepsweep::Measure(f);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
