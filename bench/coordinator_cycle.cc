// coordinator_cycle: N threads play workers against an in-process Coordinator
// (no gRPC), each looping acquire -> report checkpoints one by one ->
// complete, to measure what the core and the store sustain below the RPC
// layer. Each store named in --stores runs the same load in turn, so the
// variants are measured side by side in one command:
//
//   memory         MemorySweepStore (no persistence: the ceiling of the core)
//   sqlite-serial  SqliteSweepStore committing each mutation alone (max_batch 1)
//   sqlite         SqliteSweepStore with group commit (the default)
//
//   coordinator_cycle [--stores memory,sqlite-serial,sqlite] [--db FILE]
//                     [--workers 64] [--trials 5000] [--checkpoints 10]
//                     [--layers 5] [--bins 32]
//
// Prints, per store: full cycles per second, CPU seconds per cycle for the
// whole process, and AcquireTrial latency percentiles. Run by hand; see
// docs/PERFORMANCE.md.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "store/memory_sweep_store.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep {
namespace {

struct Flags {
  std::vector<std::string> stores = {"memory", "sqlite-serial", "sqlite"};
  std::string db = "/tmp/deepsweep_cycle.db";
  int workers = 64;
  int trials = 5000;
  int checkpoints = 10;
  int layers = 5;
  int bins = 32;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* v = argv[i + 1];
    if (name == "--stores") f.stores = absl::StrSplit(v, ',');
    if (name == "--db") f.db = v;
    if (name == "--workers") f.workers = std::atoi(v);
    if (name == "--trials") f.trials = std::atoi(v);
    if (name == "--checkpoints") f.checkpoints = std::atoi(v);
    if (name == "--layers") f.layers = std::atoi(v);
    if (name == "--bins") f.bins = std::atoi(v);
  }
  return f;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec * 1e-6;
}

// What a worker reports at checkpoint `c`: the layers' three quantities.
Checkpoint MakeCheckpoint(const Flags& f, int c) {
  Checkpoint cp{.step = c * 100, .examples_seen = c * 1000, .train_nll = 0.7, .test_error = 0.5};
  for (int layer = 1; layer <= f.layers; ++layer) {
    for (LayerQuantity q :
         {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad, LayerQuantity::kWeightGrad}) {
      cp.layer_stats.push_back({.layer = layer,
                                .quantity = q,
                                .mean = 0.1,
                                .std = 0.2,
                                .p98 = 0.9,
                                .histogram = std::vector<float>(f.bins, 1.0f / f.bins)});
    }
  }
  return cp;
}

absl::StatusOr<std::unique_ptr<SweepStore>> OpenStore(const std::string& kind, const Flags& f) {
  if (kind == "memory") return std::make_unique<MemorySweepStore>();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(f.db + suffix);
  SqliteStoreOptions options;
  if (kind == "sqlite-serial") {
    options.max_batch = 1;
  } else if (kind != "sqlite") {
    return absl::InvalidArgumentError(absl::StrCat("unknown store ", kind));
  }
  return SqliteSweepStore::Open(f.db, options);
}

absl::Status Run(const std::string& kind, const Flags& f) {
  auto store = OpenStore(kind, f);
  if (!store.ok()) return store.status();
  Coordinator coordinator(store->get(), SystemClock::Default());
  auto sweep = coordinator.CreateSweep(absl::StrCat("name: cycle\nseeds: ", f.trials, "\n"));
  if (!sweep.ok()) return sweep.status();

  std::vector<Checkpoint> checkpoints;
  for (int c = 1; c <= f.checkpoints; ++c) checkpoints.push_back(MakeCheckpoint(f, c));
  std::atomic<int64_t> cycles{0};
  absl::Mutex mu;
  absl::Status failure;
  std::vector<std::vector<double>> acquire_ms(f.workers);
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < f.workers; ++w) {
    threads.emplace_back([&, w] {
      const WorkerInfo me{.worker_id = absl::StrCat("w", w), .host = "bench"};
      auto fail = [&](absl::Status s) {
        absl::MutexLock lock(&mu);
        failure.Update(s);
      };
      while (true) {
        const auto t0 = std::chrono::steady_clock::now();
        auto a = coordinator.AcquireTrial(me);
        acquire_ms[w].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        if (!a.ok()) return fail(a.status());
        if (!a->trial.has_value()) return;
        for (const Checkpoint& c : checkpoints) {
          auto renewed = coordinator.ReportCheckpoints(a->trial->id, a->lease->lease_id, {c});
          if (!renewed.ok()) return fail(renewed.status());
        }
        absl::Status done = coordinator.CompleteTrial(a->trial->id, a->lease->lease_id, {});
        if (!done.ok()) return fail(done);
        ++cycles;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (!failure.ok()) return failure;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;

  std::vector<double> all;
  for (const auto& v : acquire_ms) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::string batching;
  if (auto* sqlite = dynamic_cast<SqliteSweepStore*>(store->get())) {
    const SqliteSweepStore::WriteStats stats = sqlite->write_stats();
    batching = absl::StrCat("  mutations/commit=", static_cast<double>(stats.mutations) /
                                                       std::max<int64_t>(stats.commits, 1));
  }
  std::printf(
      "%-13s workers=%d cycles=%lld  %.0f cycles/s  cpu=%.0f us/cycle  "
      "acquire p50=%.2f ms p99=%.2f ms%s\n",
      kind.c_str(), f.workers, static_cast<long long>(cycles.load()), cycles.load() / seconds,
      cpu / static_cast<double>(cycles.load()) * 1e6, all[all.size() / 2],
      all[all.size() * 99 / 100], batching.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deepsweep

int main(int argc, char** argv) {
  // Debian's abseil checks every Mutex for lock-order cycles, a global cost
  // that a production main turns off as well.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const deepsweep::Flags flags = deepsweep::ParseFlags(argc, argv);
  for (const std::string& kind : flags.stores) {
    if (absl::Status s = deepsweep::Run(kind, flags); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", kind.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
