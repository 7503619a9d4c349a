#include "worker/worker_pool.h"

#include <algorithm>
#include <utility>

#include "ml/random.h"
#include "worker/worker_identity.h"

namespace deepsweep::worker {

WorkerPool::WorkerPool(rpc::CoordinatorClient* client, const TrialRunner* runner,
                       const Clock* clock, Sleeper* sleeper, WorkerPoolOptions options) {
  const int n = std::max(1, options.workers);
  for (int slot = 1; slot <= n; ++slot) {
    WorkerLoopOptions loop = options.loop;
    loop.identity = DescribeThisWorker(slot);
    loop.backoff.seed = ml::DeriveSeed(static_cast<uint64_t>(loop.identity.pid), slot);
    loops_.push_back(std::make_unique<WorkerLoop>(client, runner, clock, sleeper, loop));
  }
}

WorkerPool::~WorkerPool() {
  Shutdown();
  Wait().IgnoreError();
}

void WorkerPool::Start() {
  for (auto& loop : loops_) {
    threads_.emplace_back([this, l = loop.get()] {
      absl::Status status = l->Run();
      absl::MutexLock lock(&mu_);
      if (first_error_.ok()) first_error_ = std::move(status);
    });
  }
}

void WorkerPool::Shutdown() {
  for (auto& loop : loops_) loop->Shutdown();
}

absl::Status WorkerPool::Wait() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  absl::MutexLock lock(&mu_);
  return first_error_;
}

WorkerStats WorkerPool::stats() const {
  WorkerStats sum;
  for (const auto& loop : loops_) {
    const WorkerStats s = loop->stats();
    sum.trials_taken += s.trials_taken;
    sum.trials_completed += s.trials_completed;
    sum.trials_failed += s.trials_failed;
    sum.trials_released += s.trials_released;
    sum.trials_dropped += s.trials_dropped;
    sum.checkpoints_sent += s.checkpoints_sent;
    sum.report_calls += s.report_calls;
    sum.renewals += s.renewals;
    sum.transient_errors += s.transient_errors;
  }
  return sum;
}

}  // namespace deepsweep::worker
