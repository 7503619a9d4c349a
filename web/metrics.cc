#include "web/metrics.h"

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace deepsweep::web {
namespace {

void Header(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(&out, "# HELP deepsweep_", name, " ", help, "\n# TYPE deepsweep_", name, " ",
                  type, "\n");
}

void Sample(std::string& out, absl::string_view name, absl::string_view labels, double value) {
  absl::StrAppend(&out, "deepsweep_", name, labels.empty() ? "" : "{", labels,
                  labels.empty() ? "" : "}", " ", FormatShortest(value), "\n");
}

void Histogram(std::string& out, absl::string_view name, absl::string_view labels,
               const LatencyHistogram::Snapshot& h) {
  const std::string prefix = labels.empty() ? "" : absl::StrCat(labels, ",");
  int64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    cumulative += h.buckets[i];
    Sample(out, absl::StrCat(name, "_bucket"),
           absl::StrCat(prefix, "le=\"", FormatShortest(LatencyHistogram::kBounds[i]), "\""),
           static_cast<double>(cumulative));
  }
  Sample(out, absl::StrCat(name, "_bucket"), absl::StrCat(prefix, "le=\"+Inf\""),
         static_cast<double>(h.count));
  Sample(out, absl::StrCat(name, "_sum"), labels, h.sum_seconds);
  Sample(out, absl::StrCat(name, "_count"), labels, static_cast<double>(h.count));
}

}  // namespace

std::string PrometheusText(const MetricsSnapshot& s) {
  std::string out;
  Header(out, "trials", "gauge", "Trials by state, over every sweep.");
  const TrialCounts& t = s.trials;
  for (const auto& [state, n] : {std::pair{"pending", t.pending},
                                 {"leased", t.leased},
                                 {"succeeded", t.succeeded},
                                 {"diverged", t.diverged},
                                 {"failed", t.failed},
                                 {"cancelled", t.cancelled},
                                 {"pruned", t.pruned}}) {
    Sample(out, "trials", absl::StrCat("state=\"", state, "\""), static_cast<double>(n));
  }
  Header(out, "sweeps", "gauge", "Sweeps by state.");
  Sample(out, "sweeps", "state=\"active\"", static_cast<double>(s.sweeps_active));
  Sample(out, "sweeps", "state=\"cancelled\"", static_cast<double>(s.sweeps_cancelled));
  Sample(out, "sweeps", "state=\"finished\"", static_cast<double>(s.sweeps_finished));
  Header(out, "workers_alive", "gauge", "Workers heard from within the lease time to live.");
  Sample(out, "workers_alive", "", static_cast<double>(s.workers_alive));
  Header(out, "workers_known", "gauge", "Workers that ever registered.");
  Sample(out, "workers_known", "", static_cast<double>(s.workers_known));

  const CoordinatorCounters& c = s.coordinator;
  Header(out, "leases_granted_total", "counter", "Leases handed out since the server started.");
  Sample(out, "leases_granted_total", "", static_cast<double>(c.leases_granted));
  Header(out, "leases_expired_total", "counter", "Leases that expired without a heartbeat.");
  Sample(out, "leases_expired_total", "", static_cast<double>(c.leases_expired));
  Header(out, "leases_released_total", "counter", "Leases that workers gave back.");
  Sample(out, "leases_released_total", "", static_cast<double>(c.leases_released));
  Header(out, "leases_ended_total", "counter", "Leases that ended in any way.");
  Sample(out, "leases_ended_total", "", static_cast<double>(c.leases_ended));

  Header(out, "rpc_calls_total", "counter", "CoordinatorService calls by method and result.");
  for (const RpcMethodMetrics& m : s.rpc) {
    Sample(out, "rpc_calls_total",
           absl::StrCat("method=\"", std::string(m.method), "\",result=\"ok\""),
           static_cast<double>(m.ok));
    Sample(out, "rpc_calls_total",
           absl::StrCat("method=\"", std::string(m.method), "\",result=\"error\""),
           static_cast<double>(m.errors));
  }
  Header(out, "rpc_latency_seconds", "histogram", "CoordinatorService handler latency.");
  for (const RpcMethodMetrics& m : s.rpc) {
    Histogram(out, "rpc_latency_seconds", absl::StrCat("method=\"", std::string(m.method), "\""),
              m.latency);
  }
  Header(out, "unfinished_trials", "gauge",
         "Pending and leased trials, the count --max-unfinished-trials bounds.");
  Sample(out, "unfinished_trials", "", static_cast<double>(s.unfinished_trials));
  Header(out, "store_writable", "gauge",
         "1 while the store takes writes, 0 from a write it failed until one succeeds.");
  Sample(out, "store_writable", "", s.store_health.writable ? 1.0 : 0.0);
  Header(out, "store_failed_writes_total", "counter",
         "Writes failed by the store's fault (full disk, I/O error, read-only file).");
  Sample(out, "store_failed_writes_total", "", static_cast<double>(s.store_health.failed_writes));
  if (s.store.has_value()) {
    Header(out, "store_commit_latency_seconds", "histogram",
           "Time of each SQLite write transaction (a group of mutations).");
    Histogram(out, "store_commit_latency_seconds", "", s.store->commit_latency);
    Header(out, "store_write_queue_depth", "gauge", "Mutations waiting for the next commit.");
    Sample(out, "store_write_queue_depth", "", static_cast<double>(s.store->queue_depth));
    Header(out, "store_commits_total", "counter", "SQLite write transactions committed.");
    Sample(out, "store_commits_total", "", static_cast<double>(s.store->commits));
    Header(out, "store_mutations_total", "counter", "Mutations committed.");
    Sample(out, "store_mutations_total", "", static_cast<double>(s.store->mutations));
  }
  return out;
}

}  // namespace deepsweep::web
