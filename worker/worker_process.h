// WorkerProcess: deepsweep-worker as a library call, so main.cc only parses
// flags. Connects to the coordinator, runs a WorkerLoop with the system clock
// and real waits, and turns SIGTERM / SIGINT into WorkerLoop::Shutdown():
// the trial in training stops before its next update, its lease is released
// (pending again at once), and the call returns.
//
// Thread-safety: call once per process (it installs signal handlers).
// Errors: INVALID_ARGUMENT for inconsistent options (token and token file),
// the token file's read errors, ConnectCoordinator's errors, and what
// WorkerLoop::Run returns (e.g. UNAUTHENTICATED for a wrong token).
#ifndef DEEPSWEEP_WORKER_WORKER_PROCESS_H_
#define DEEPSWEEP_WORKER_WORKER_PROCESS_H_

#include <string>

#include <optional>

#include "absl/status/status.h"
#include "ml/kernels.h"
#include "rpc/grpc_coordinator_client.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace deepsweep::worker {

struct WorkerProcessOptions {
  // The coordinator: address, TLS CA, token, call deadline.
  rpc::ClientOptions coordinator;
  // File holding the bearer token (surrounding whitespace ignored); exclusive
  // with coordinator.token.
  std::string token_file;
  // threads: threads per trial.
  TrialRunnerOptions runner;
  // max_trials and the waits; an empty identity.worker_id is replaced by
  // this process's identity (host, pid, version, cores).
  WorkerLoopOptions loop;
  DatasetCacheOptions datasets;
  // The small-batch kernels' instruction set for the whole process; empty =
  // the best this CPU has (ml/kernels.h). One this CPU lacks is an error.
  std::optional<ml::KernelIsa> kernels;
  // kAuto's plan (ml/kernels.h AutoPlan) for the whole process; empty =
  // measured at start or read from what an earlier start on this machine
  // measured (worker/auto_plan.h), with runner.threads threads.
  std::optional<ml::AutoPlan> auto_plan;
  // Where measured plans are cached; "" = measure at every start.
  std::string cache_dir;
  // After SIGTERM/SIGINT the trial in training is snapshotted, uploaded and
  // released; a process still busy with that after `grace` exits at once
  // (its lease then expires; the last periodic snapshot stays). Kubernetes
  // sends SIGKILL 30 s after SIGTERM by default.
  absl::Duration grace = absl::Seconds(25);
};

// Returns OK after a termination signal or max_trials trials.
absl::Status RunWorkerUntilSignal(WorkerProcessOptions options);

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_WORKER_PROCESS_H_
