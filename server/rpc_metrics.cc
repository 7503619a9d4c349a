#include "server/rpc_metrics.h"

#include <algorithm>

namespace deepsweep::server {

void RpcMetrics::Record(std::string_view method, absl::StatusCode code, absl::Duration latency) {
  const auto it = std::find(kMethods.begin(), kMethods.end(), method);
  if (it == kMethods.end()) return;
  Entry& e = entries_[static_cast<size_t>(it - kMethods.begin())];
  (code == absl::StatusCode::kOk ? e.ok : e.errors).fetch_add(1, std::memory_order_relaxed);
  e.latency.Observe(latency);
}

std::vector<RpcMetrics::MethodStats> RpcMetrics::Read() const {
  std::vector<MethodStats> out;
  for (size_t i = 0; i < kMethods.size(); ++i) {
    const Entry& e = entries_[i];
    out.push_back({.method = kMethods[i],
                   .ok = e.ok.load(std::memory_order_relaxed),
                   .errors = e.errors.load(std::memory_order_relaxed),
                   .latency = e.latency.Read()});
  }
  return out;
}

}  // namespace deepsweep::server
