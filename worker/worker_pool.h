// WorkerPool: several WorkerLoops on threads of one process, for the
// embedded mode (`deepsweep run`): one machine, an in-process coordinator,
// K workers.
//
// The loops share one TrialRunner (and so one DatasetCache: Fashion-MNIST is
// read once for all of them) and each registers as its own worker
// ("host:pid/1", "host:pid/2", ...) with its own backoff seed. A trial runs
// the same code on the same data as in a deepsweep-worker process, so an
// embedded sweep stores the same metrics as a distributed one.
//
// Thread-safety: Start once; Shutdown() and stats() from any thread; Wait()
// from one thread.
#ifndef DEEPSWEEP_WORKER_WORKER_POOL_H_
#define DEEPSWEEP_WORKER_WORKER_POOL_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "rpc/coordinator_client.h"
#include "worker/sleeper.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace deepsweep::worker {

struct WorkerPoolOptions {
  // Worker threads, >= 1.
  int workers = 2;
  // Applied to every loop; identity and backoff.seed are set per worker.
  WorkerLoopOptions loop;
};

class WorkerPool {
 public:
  // Every pointer must outlive the pool.
  WorkerPool(rpc::CoordinatorClient* client, const TrialRunner* runner, const Clock* clock,
             Sleeper* sleeper, WorkerPoolOptions options);
  ~WorkerPool();  // shuts down and waits when the caller did not

  // Starts the worker threads.
  void Start();
  // Every loop takes no new trial and releases the one it trains.
  void Shutdown();
  // Blocks until every loop has returned; the first error any returned.
  absl::Status Wait();
  // Summed over the loops.
  WorkerStats stats() const;

 private:
  std::vector<std::unique_ptr<WorkerLoop>> loops_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_WORKER_POOL_H_
