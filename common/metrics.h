// Monitoring primitives for /metrics: a latency histogram that many threads
// record into without a lock (relaxed atomics: a reader may see a sample's
// bucket before its sum, which monitoring tolerates).
//
// Thread-safety: Observe() and Read() may be called concurrently.
#ifndef DEEPSWEEP_COMMON_METRICS_H_
#define DEEPSWEEP_COMMON_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace deepsweep {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, in seconds (Prometheus "le"); a last bucket
  // takes everything above.
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  struct Snapshot {
    std::array<int64_t, kBounds.size() + 1> buckets{};  // per bucket, not cumulative
    int64_t count = 0;
    double sum_seconds = 0;
  };

  void Observe(absl::Duration latency);
  Snapshot Read() const;

 private:
  std::array<std::atomic<int64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<int64_t> sum_nanos_{0};
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_METRICS_H_
