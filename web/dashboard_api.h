// DashboardApi: the read-only JSON answers of the web dashboard, one method
// per endpoint, over the Coordinator's read use cases and the store's
// aggregates. No HTTP here (web/http_dashboard.h serves these), so tests call
// it directly.
//
// Every answer is one JSON document. Numbers that are NaN or infinite are
// null; times are RFC 3339 UTC. Aggregation happens in the store (SQL for
// SQLite): a sweep's page costs a handful of queries however many trials it
// has, and trial lists are paginated.
//
//   Sweeps()            [{sweep}] with counts, fraction, trials_per_hour,
//                       eta_seconds (core/progress_estimate.h)
//   Sweep(id)           {sweep, fields (the varying configuration fields),
//                        configs: [{first_trial, label, values, counts, n,
//                        mean, std, ci_half, mean_validation_error, best}],
//                        table1 (core/paper_table.h)}
//   Curves(id, trial)   the learning curves of the configuration of `trial`:
//                       {steps: [{step, n, test_mean, test_ci_half,
//                        validation_mean, validation_ci_half}]}
//   Trials(id, page)    {total, offset, limit, trials: [{trial}]}
//   Trial(id)           {trial, diagnosis} for its latest attempt
//   Checkpoints(id)     {trial, diagnosis, checkpoints: [{metrics, layers}]}
//   Workers()           [{worker, alive, seconds_since_seen, current_trial}]
//
// Errors: NOT_FOUND for unknown ids, INVALID_ARGUMENT for a bad page, the
// store's errors otherwise.
// Thread-safety: every method may be called concurrently.
#ifndef DEEPSWEEP_WEB_DASHBOARD_API_H_
#define DEEPSWEEP_WEB_DASHBOARD_API_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "core/sweep_store.h"
#include "core/trial.h"
#include "core/trial_diagnosis.h"

namespace deepsweep::web {

struct DashboardApiOptions {
  // A worker heard from within this long counts as alive.
  absl::Duration worker_timeout = absl::Seconds(30);
  // Trials per page when the request names none, and the most it may name.
  int64_t default_page_size = 50;
  int64_t max_page_size = 500;
  // Level of the confidence intervals across seeds.
  double confidence = 0.95;
  // How many recent completions the throughput is measured over.
  int rate_window = 20;
  DiagnosisOptions diagnosis;
};

// Which trials of a sweep a Trials() page holds.
struct TrialPage {
  int64_t offset = 0;
  int64_t limit = 0;                // 0 = default_page_size
  std::optional<TrialState> state;  // only trials in this state
};

class DashboardApi {
 public:
  // `coordinator`, `store` and `clock` must outlive the API. `store` is the
  // coordinator's.
  DashboardApi(Coordinator* coordinator, SweepStore* store, const Clock* clock,
               DashboardApiOptions options = {});

  absl::StatusOr<std::string> Sweeps();
  absl::StatusOr<std::string> Sweep(SweepId id);
  absl::StatusOr<std::string> Curves(SweepId id, TrialId config_trial);
  absl::StatusOr<std::string> Trials(SweepId id, const TrialPage& page);
  absl::StatusOr<std::string> Trial(TrialId id);
  absl::StatusOr<std::string> Checkpoints(TrialId id);
  absl::StatusOr<std::string> Workers();

 private:
  Coordinator* const coordinator_;
  SweepStore* const store_;
  const Clock* const clock_;
  const DashboardApiOptions options_;
};

}  // namespace deepsweep::web

#endif  // DEEPSWEEP_WEB_DASHBOARD_API_H_
