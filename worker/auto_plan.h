// The worker's auto plan (ml/kernels.h AutoPlan: which backend serves which
// minibatch width): measured at start (ml/auto_calibration.h) or read from a
// cache file an earlier start on this machine wrote.
//
// Cache: one file per kernel ISA and thread count,
// <cache_dir>/auto-plan-<isa>-<threads>t.txt, lines "key: value":
//   deepsweep auto plan 1                       (format version)
//   cpu: AMD EPYC 9R14 96-Core Processor        (/proc/cpuinfo's model name)
//   isa: avx512                                 (ml::ActiveKernelIsa)
//   openblas: Cooperlake                        (ml::OpenBlasCoreName)
//   binary: 0.1.0 exe=23456789@1764740000       (BinaryIdentity)
//   threads: 1
//   measured: 1,10,32,64,128,256 small_batch,eigen,blas 784-1000x5-10
//   plan: 1:small_batch,45:blas
//   # 10 columns: small_batch 0.412 ms, ... (the measurements, for people)
// A file is used only when every key (cpu .. measured) equals this
// process's: another CPU model, ISA, OpenBLAS core, binary, thread count or
// calibration measures again and replaces it. A file that cannot be read as
// one (damaged, cut short, an invalid plan) is ignored with a warning and
// replaced.
//
// Concurrency: the read-measure-write runs under an exclusive lock
// (flock on <file>.lock), so workers starting together on one machine measure
// once, not against each other: the others wait, then read its file. The file
// is written to a temporary and renamed into place.
//
// Determinism: the plan decides which implementation computes each product,
// so it is part of ml::ComputePath(), stored with each trial, and selected
// again by `deepsweep replay`.
#ifndef DEEPSWEEP_WORKER_AUTO_PLAN_H_
#define DEEPSWEEP_WORKER_AUTO_PLAN_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/auto_calibration.h"
#include "ml/kernels.h"

namespace deepsweep::worker {

struct AutoPlanOptions {
  // Where the cache file lives (created if missing); "" = no cache: measure
  // every time.
  std::string cache_dir;
  // The keys; empty = this process's (CpuModelName(), BinaryIdentity()).
  std::string cpu_model;
  std::string binary;
  // What is measured (StepTimerOptions::threads is the thread-count key).
  ml::CalibrationOptions calibration;
  ml::StepTimerOptions timer;
};

struct AutoPlanResult {
  ml::AutoPlan plan;
  bool from_cache = false;
  std::string cache_file;  // "" without a cache
  // What was measured (ml::CalibrationSummary), or read from the cache.
  std::vector<std::string> summary;
  // A damaged cache file, a cache that could not be written: the plan is
  // still good, the caller logs these.
  std::vector<std::string> warnings;
};

// Makes the timer when a measurement is needed (not on a cache hit).
using StepTimerFactory =
    std::function<absl::StatusOr<std::unique_ptr<ml::StepTimer>>(const ml::StepTimerOptions&)>;

// The real one: ml::TrainingStepTimer, its budget in wall time, its steps in
// the thread's CPU time with one thread (ml::ThreadCpuClock), else wall time.
StepTimerFactory RealStepTimers();

// The cached plan when the cache matches this process, else a new
// measurement (written to the cache). Errors: the calibration's or the
// timer's (InvalidArgument for bad options); cache problems are warnings.
absl::StatusOr<AutoPlanResult> LoadOrMeasureAutoPlan(const AutoPlanOptions& options,
                                                     const StepTimerFactory& timers);

// $XDG_CACHE_HOME/deepsweep, else $HOME/.cache/deepsweep, else "".
std::string DefaultCacheDir();
// /proc/cpuinfo's first "model name" ("unknown" when there is none).
std::string CpuModelName();
// This binary: the version and the size and modification time of
// /proc/self/exe, so a rebuilt binary measures again.
std::string BinaryIdentity();

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_AUTO_PLAN_H_
