// The coordinator's state and counters in the Prometheus text exposition
// format (version 0.0.4), for GET /metrics.
//
// Metric names (all prefixed deepsweep_):
//   trials{state}                           gauge, over every sweep
//   sweeps{state}                           gauge
//   workers_alive, workers_known            gauge (alive: heard within the lease TTL)
//   leases_granted_total, leases_expired_total, leases_released_total,
//   leases_ended_total                      counters since the server started
//   rpc_calls_total{method,result}          counter, result = ok | error
//   rpc_latency_seconds{method}             histogram
//   store_commit_latency_seconds            histogram (SQLite writer transactions)
//   store_write_queue_depth                 gauge (mutations waiting for a commit)
//   store_commits_total, store_mutations_total  counters
//   store_writable                          gauge, 0 while writes fail by the
//                                           store's fault (e.g. a full disk)
//   store_failed_writes_total               counter
//   unfinished_trials                       gauge (pending + leased, the count
//                                           --max-unfinished-trials bounds)
//
// Thread-safety: pure function.
#ifndef DEEPSWEEP_WEB_METRICS_H_
#define DEEPSWEEP_WEB_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "core/coordinator.h"

namespace deepsweep::web {

struct RpcMethodMetrics {
  std::string_view method;
  int64_t ok = 0;
  int64_t errors = 0;
  LatencyHistogram::Snapshot latency;
};

struct StoreMetrics {
  int64_t commits = 0;
  int64_t mutations = 0;
  int64_t queue_depth = 0;
  LatencyHistogram::Snapshot commit_latency;
};

struct MetricsSnapshot {
  TrialCounts trials;
  int64_t sweeps_active = 0, sweeps_cancelled = 0, sweeps_finished = 0;
  int64_t workers_alive = 0;
  int64_t workers_known = 0;
  CoordinatorCounters coordinator;
  StoreHealth store_health;
  int64_t unfinished_trials = 0;
  std::vector<RpcMethodMetrics> rpc;
  std::optional<StoreMetrics> store;  // SQLite only
};

std::string PrometheusText(const MetricsSnapshot& snapshot);

}  // namespace deepsweep::web

#endif  // DEEPSWEEP_WEB_METRICS_H_
