// Server time of the dashboard's JSON pages on a large sweep (by hand; the
// figures are in docs/PERFORMANCE.md):
//   build/bench/dashboard_pages [--trials 10000] [--done 10000] [--db FILE] [--reuse 1]
// Creates a sweep of `trials` trials (100 learning rates x 5 depths x seeds)
// in a fresh SQLite file, runs `done` of them through the Coordinator (7
// checkpoints each with 5 layers of statistics, then completed), and times
// every DashboardApi page: the first call, then the best of 5 in real time
// and in this thread's CPU time (on a shared machine real time includes
// waiting for a core), printing milliseconds and bytes. --reuse 1 times the
// pages of the file's first sweep as it is, without creating one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "store/sqlite_sweep_store.h"
#include "web/dashboard_api.h"

namespace {

using deepsweep::Checkpoint;
using deepsweep::LayerQuantity;
using deepsweep::LayerStat;

int64_t Flag(int argc, char** argv, const std::string& name, int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (name == argv[i]) return std::stoll(argv[i + 1]);
  }
  return fallback;
}

// CPU time of the calling thread, in ms.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

std::vector<Checkpoint> Checkpoints(uint64_t seed) {
  std::vector<Checkpoint> out;
  for (int64_t step = 0; step <= 600; step += 100) {
    const double e =
        0.8 - 0.0005 * static_cast<double>(step) + 0.001 * static_cast<double>(seed % 7);
    Checkpoint c{.step = step,
                 .examples_seen = step * 10,
                 .train_nll = 1,
                 .test_error = e,
                 .test_nll = 1,
                 .validation_error = e,
                 .validation_nll = 1};
    for (int layer = 1; layer <= 5; ++layer) {
      for (LayerQuantity q :
           {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad, LayerQuantity::kWeightGrad}) {
        c.layer_stats.push_back(LayerStat{.layer = layer,
                                          .quantity = q,
                                          .mean = 0.5,
                                          .std = 0.1,
                                          .p98 = 0.9,
                                          .saturated_fraction = 0.1,
                                          .jacobian_sv_mean = 0.8,
                                          .hist_lo = 0,
                                          .hist_hi = 1,
                                          .histogram = std::vector<float>(50, 0.02f)});
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t trials = Flag(argc, argv, "--trials", 10000);
  const int64_t done = Flag(argc, argv, "--done", trials);
  std::string db = "/tmp/dashboard_pages.db";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--db") db = argv[i + 1];
  }
  const bool reuse = Flag(argc, argv, "--reuse", 0) != 0;
  if (!reuse) {
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
  }
  auto store = deepsweep::SqliteSweepStore::Open(db);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  const deepsweep::Clock* clock = deepsweep::SystemClock::Default();
  deepsweep::Coordinator coordinator(store->get(), clock);
  std::vector<std::string> rates;
  for (int i = 1; i <= 100; ++i) rates.push_back(absl::StrCat(0.001 * i));
  const int64_t seeds = std::max<int64_t>(1, trials / 500);
  auto sweep =
      reuse ? coordinator.GetSweep(1)
            : coordinator.CreateSweep(absl::StrCat(
                  "name: big\nmodel: {width: 8}\ntraining: {updates: 600, checkpoint_every: 100}\n"
                  "grid:\n  depth: [1, 2, 3, 4, 5]\n  learning_rate: [",
                  absl::StrJoin(rates, ", "), "]\nseeds: ", seeds, "\n"));
  if (!sweep.ok()) {
    std::fprintf(stderr, "%s\n", sweep.status().ToString().c_str());
    return 1;
  }
  const auto fill_start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < (reuse ? 0 : done); ++i) {
    auto a = coordinator.AcquireTrial({.worker_id = "bench", .host = "h"});
    if (!a.ok() || !a->trial.has_value()) break;
    const std::vector<Checkpoint> checkpoints = Checkpoints(a->trial->spec.seed);
    if (!coordinator.ReportCheckpoints(a->trial->id, a->lease->lease_id, checkpoints).ok() ||
        !coordinator.CompleteTrial(a->trial->id, a->lease->lease_id, {}).ok()) {
      std::fprintf(stderr, "filling failed at trial %lld\n", static_cast<long long>(i));
      return 1;
    }
  }
  std::printf(
      "sweep of %lld trials (%lld configurations x %lld seeds), %lld run, filled in %.1f s\n",
      static_cast<long long>(sweep->counts.total()), static_cast<long long>(500),
      static_cast<long long>(seeds), static_cast<long long>(reuse ? sweep->counts.done() : done),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count());

  deepsweep::web::DashboardApi api(&coordinator, store->get(), clock);
  const deepsweep::SweepId id = sweep->id;
  auto first = coordinator.ListTrials({.sweep_id = id, .limit = 1});
  const deepsweep::TrialId trial = first.ok() && !first->empty() ? first->front().id : 1;
  const std::vector<std::pair<std::string, std::function<absl::StatusOr<std::string>()>>> pages = {
      {"/api/sweeps", [&] { return api.Sweeps(); }},
      {"/api/sweeps/ID", [&] { return api.Sweep(id); }},
      {"/api/sweeps/ID/curves?config=T", [&] { return api.Curves(id, trial); }},
      {"/api/sweeps/ID/trials (first page of 50)", [&] { return api.Trials(id, {}); }},
      {"/api/sweeps/ID/trials?offset=9950",
       [&] { return api.Trials(id, {.offset = trials - 50}); }},
      {"/api/sweeps/ID/trials?limit=500", [&] { return api.Trials(id, {.limit = 500}); }},
      {"/api/trials/T/checkpoints", [&] { return api.Checkpoints(trial); }},
      {"/api/workers", [&] { return api.Workers(); }},
  };
  std::printf("%-45s %9s %9s %9s %9s\n", "page", "first ms", "best ms", "best CPU", "bytes");
  for (const auto& [name, page] : pages) {
    double first = 0, best = 1e9, best_cpu = 1e9;
    size_t bytes = 0;
    for (int r = 0; r < 6; ++r) {
      const double cpu_start = ThreadCpuMs();
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<std::string> body = page();
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      const double cpu_ms = ThreadCpuMs() - cpu_start;
      if (!body.ok()) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), body.status().ToString().c_str());
        return 1;
      }
      if (r == 0) {
        first = ms;
        continue;
      }
      best = std::min(best, ms);
      best_cpu = std::min(best_cpu, cpu_ms);
      bytes = body->size();
    }
    std::printf("%-45s %9.1f %9.1f %9.1f %9zu\n", name.c_str(), first, best, best_cpu, bytes);
  }
  return 0;
}
