// coordinator_cycle: N threads play workers against an in-process Coordinator
// (no gRPC), each looping acquire -> report checkpoints -> complete, to
// measure what the core and the store sustain below the RPC layer.
//
//   coordinator_cycle [--store sqlite|memory] [--db FILE] [--workers N]
//                     [--trials N] [--checkpoints N] [--layers N] [--bins N]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "store/memory_sweep_store.h"
#include "store/sqlite_sweep_store.h"

namespace {

struct Flags {
  std::string store = "sqlite";
  std::string db = "/tmp/deepsweep_cycle.db";
  int workers = 64;
  int trials = 20000;
  int checkpoints = 10;
  int layers = 5;
  int bins = 32;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* v = argv[i + 1];
    if (name == "--store")
      f.store = v;
    else if (name == "--db")
      f.db = v;
    else if (name == "--workers")
      f.workers = std::atoi(v);
    else if (name == "--trials")
      f.trials = std::atoi(v);
    else if (name == "--checkpoints")
      f.checkpoints = std::atoi(v);
    else if (name == "--layers")
      f.layers = std::atoi(v);
    else if (name == "--bins")
      f.bins = std::atoi(v);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  using deepsweep::Checkpoint;
  const Flags f = ParseFlags(argc, argv);
  // Debian's abseil checks every Mutex for lock-order cycles, a global cost
  // a production main turns off as well.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::unique_ptr<deepsweep::SweepStore> store;
  if (f.store == "memory") {
    store = std::make_unique<deepsweep::MemorySweepStore>();
  } else {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(f.db + s);
    auto opened = deepsweep::SqliteSweepStore::Open(f.db);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    store = *std::move(opened);
  }
  deepsweep::Coordinator coordinator(store.get(), deepsweep::SystemClock::Default());
  auto sweep = coordinator.CreateSweep(absl::StrCat("name: cycle\nseeds: ", f.trials, "\n"));
  if (!sweep.ok()) {
    std::fprintf(stderr, "%s\n", sweep.status().ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> cycles{0};
  std::vector<std::vector<double>> acquire_ms(f.workers);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < f.workers; ++w) {
    threads.emplace_back([&, w] {
      const deepsweep::WorkerInfo me{.worker_id = absl::StrCat("w", w), .host = "bench"};
      while (true) {
        const auto t0 = std::chrono::steady_clock::now();
        auto a = coordinator.AcquireTrial(me);
        acquire_ms[w].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        if (!a.ok()) std::abort();
        if (!a->trial.has_value()) return;
        for (int c = 1; c <= f.checkpoints; ++c) {
          Checkpoint cp{.step = c * 100, .examples_seen = c * 1000, .test_error = 0.5};
          for (int l = 1; l <= f.layers; ++l) {
            for (auto q :
                 {deepsweep::LayerQuantity::kActivation, deepsweep::LayerQuantity::kBackpropGrad,
                  deepsweep::LayerQuantity::kWeightGrad}) {
              cp.layer_stats.push_back({.layer = l,
                                        .quantity = q,
                                        .mean = 0.1,
                                        .std = 0.2,
                                        .histogram = std::vector<float>(f.bins, 1.0f / f.bins)});
            }
          }
          if (!coordinator.ReportCheckpoints(a->trial->id, a->lease->lease_id, {cp}).ok()) {
            std::abort();
          }
        }
        if (!coordinator.CompleteTrial(a->trial->id, a->lease->lease_id, {}).ok()) std::abort();
        ++cycles;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : acquire_ms) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
                     usage.ru_stime.tv_usec * 1e-6;
  std::printf(
      "store=%s workers=%d cycles=%lld seconds=%.2f cycles/s=%.0f cpu=%.2fs "
      "cpu/cycle=%.0fus acquire p50=%.3f ms p99=%.3f ms\n",
      f.store.c_str(), f.workers, static_cast<long long>(cycles.load()), seconds,
      cycles.load() / seconds, cpu, cpu / cycles.load() * 1e6, all[all.size() / 2],
      all[all.size() * 99 / 100]);
  return 0;
}
