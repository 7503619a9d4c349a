// RpcMetrics: per-method call counts and latency histograms of the
// CoordinatorService, for /metrics. Recording is a few relaxed atomic adds
// (no lock), so it costs the coordinator nothing it would notice.
//
// Latency is the handler's time from the call reaching the service to its
// answer, authentication included (for WatchSweep: the stream's life).
//
// Thread-safety: Record() and Read() may be called concurrently.
#ifndef DEEPSWEEP_SERVER_RPC_METRICS_H_
#define DEEPSWEEP_SERVER_RPC_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/metrics.h"

namespace deepsweep::server {

class RpcMetrics {
 public:
  // The CoordinatorService methods, in the proto's order.
  static constexpr std::array<std::string_view, 17> kMethods = {
      "CreateSweep", "GetSweep",     "ListSweeps",     "CancelSweep",       "RetryTrials",
      "ListTrials",  "GetTrial",     "GetCheckpoints", "ListWorkers",       "ListAttempts",
      "WatchSweep",  "AcquireTrial", "RenewLease",     "ReportCheckpoints", "CompleteTrial",
      "FailTrial",   "ReleaseTrial"};

  struct MethodStats {
    std::string_view method;
    int64_t ok = 0;
    int64_t errors = 0;  // calls answered with any other code
    LatencyHistogram::Snapshot latency;
  };

  // A method outside kMethods is not recorded.
  void Record(std::string_view method, absl::StatusCode code, absl::Duration latency);
  // One entry per kMethods, in that order.
  std::vector<MethodStats> Read() const;

 private:
  struct Entry {
    std::atomic<int64_t> ok{0};
    std::atomic<int64_t> errors{0};
    LatencyHistogram latency;
  };
  std::array<Entry, kMethods.size()> entries_;
};

}  // namespace deepsweep::server

#endif  // DEEPSWEEP_SERVER_RPC_METRICS_H_
