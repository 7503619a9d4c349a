// Two sweeps with made-up but consistent results, written through the
// CoordinatorClient interface exactly as workers would write them (acquire,
// report checkpoints, complete / fail), for the CLI tests.
//
// Sweep "paper-small" (finished): activation {sigmoid, tanh} x init
// {standard, normalized} without sigmoid+normalized, 3 seeds = 9 trials,
// final test errors by configuration and seed:
//   sigmoid standard:  0.50, 0.60, diverged (loss NaN; last test error 0.9)
//   tanh standard:     0.20, 0.22, 0.27
//   tanh normalized:   0.10, 0.12, 0.17
// Every trial of it reports 6 checkpoints (steps 0..500 by 100, batch 10)
// with 5 layers of statistics (tests/client/sample_checkpoints.h), on
// worker "worker-a", one trial a minute from kPreparedStart.
//
// Sweep "still-running" (active): activation {tanh, softsign} x depth {1, 2}:
// trial 0 leased by "worker-b" at step 200 of 500, trial 1 failed ("out of
// memory", not retryable), trials 2 and 3 pending. Created at +600 s; the
// failure at +660 s; the clock is left at +720 s.
#ifndef DEEPSWEEP_TESTS_CLIENT_PREPARED_SWEEPS_H_
#define DEEPSWEEP_TESTS_CLIENT_PREPARED_SWEEPS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::client::testing {

inline const absl::Time kPreparedStart = absl::FromUnixSeconds(1'700'000'000);

struct PreparedSweeps {
  SweepId finished = 0;
  SweepId active = 0;
  // Trials of "paper-small" by expansion index, with what each reported.
  std::vector<TrialId> finished_trials;
  std::vector<std::vector<Checkpoint>> reported;
  TrialId running = 0;  // the leased trial of "still-running"
  std::string running_lease;
  std::vector<Checkpoint> running_reported;
  TrialId failed = 0;
};

// `clock` must be the coordinator's clock; it is set to kPreparedStart first.
absl::StatusOr<PreparedSweeps> PrepareSweeps(rpc::CoordinatorClient& coordinator, FakeClock& clock);

}  // namespace deepsweep::client::testing

#endif  // DEEPSWEEP_TESTS_CLIENT_PREPARED_SWEEPS_H_
