// Calibration of kAuto's plan (ml/kernels.h AutoPlan): which of the
// small-batch kernels (of the process's KernelIsa), Eigen's GEMM and OpenBLAS
// runs whole training steps fastest on this machine, at a handful of minibatch
// widths.
//
// Procedure (CalibrateAutoPlan): rounds; each round measures every candidate
// at every width once (StepTimer::Measure: seconds per training step), the
// widths in order and the candidates interleaved, so a change of load hits all
// of them alike; round r starts at candidate r mod n, so no candidate is
// always the first timed after a change of width. A width's score for a
// candidate is its least seconds per step over the rounds (the least disturbed
// measurement on a shared machine); the winner is the least score (ties: the
// earlier candidate). At least min_rounds rounds of every candidate at every
// width, whatever they cost: one sample per candidate is not a measurement (a
// single disturbed round once chose blas at minibatch 1, where small_batch is
// 1.7x faster). Later rounds measure only the contenders: at each width, the
// candidates whose score is within contender_margin of the width's best
// (score <= (1 + margin) best); a width with one contender is decided. So the
// budget goes to the close calls (small_batch against eigen at minibatch 1,
// against blas at 128) and not to a backend that is 2x behind (the portable
// build's eigen). Further rounds, up to max_rounds, while some width is
// undecided and the next round fits in the budget: a round starts only when
// the time spent so far plus the timed steps its contenders took when last
// measured (warm-ups aside) stay within budget_seconds.
//
// From widths to a plan: a width between two calibrated ones c_i < c_j takes
// the choice of the nearer on a log scale (c_j's from ceil(sqrt(c_i c_j)) on),
// one below the first the first's, one above the last the last's; adjacent
// ranges of one backend merge.
//
// The timer is injected: tests script its durations, TrainingStepTimer
// measures real steps.
#ifndef DEEPSWEEP_ML_AUTO_CALIBRATION_H_
#define DEEPSWEEP_ML_AUTO_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "ml/dataset.h"
#include "ml/kernels.h"
#include "ml/mlp.h"

namespace deepsweep::ml {

// One measurement of one candidate at one width.
struct StepTiming {
  double seconds_per_step = 0;  // of the timed steps
  int64_t steps = 0;            // timed steps
  double elapsed_seconds = 0;   // the whole call, warm-up included
};

class StepTimer {
 public:
  virtual ~StepTimer() = default;
  // Times training steps of minibatch `columns` on `backend` (not kAuto).
  virtual StepTiming Measure(GemmBackend backend, int columns) = 0;
};

struct CalibrationOptions {
  // Minibatch widths measured, increasing, >= 1.
  std::vector<int> columns = {1, 10, 32, 64, 128, 256};
  // Backends compared (not kAuto).
  std::vector<GemmBackend> candidates = {GemmBackend::kSmallBatch, GemmBackend::kEigen,
                                         GemmBackend::kBlas};
  double budget_seconds = 3;       // see the header comment; > 0
  int min_rounds = 2;              // >= 1
  int max_rounds = 8;              // >= min_rounds
  double contender_margin = 0.25;  // >= 0
};

struct Calibration {
  AutoPlan plan;
  // best_seconds[i][j]: least seconds per step of candidates[j] at columns[i].
  std::vector<std::vector<double>> best_seconds;
  // measurements[i][j]: how many times candidates[j] was measured at columns[i].
  std::vector<std::vector<int>> measurements;
  int rounds = 0;
  double elapsed_seconds = 0;  // the timer's, all rounds
};

// InvalidArgument naming the bad option.
absl::StatusOr<Calibration> CalibrateAutoPlan(StepTimer& timer,
                                              const CalibrationOptions& options = {});

// One line per width for logs and cache files: each candidate's score and
// (in parentheses) how many times it was measured, e.g. "10 columns:
// small_batch 3.210 ms (5), eigen 6.020 ms (2), blas 5.400 ms (2) -> small_batch".
std::vector<std::string> CalibrationSummary(const Calibration& calibration,
                                            const CalibrationOptions& options);

// The calling thread's CPU time, as a Clock (Now() = the Unix epoch plus the
// CPU time this thread has used; only differences mean anything): a step
// timed with it is not lengthened by other processes taking the core, which
// on a shared machine wall time is.
class ThreadCpuClock final : public Clock {
 public:
  absl::Time Now() const override;
};

// The real timer: plain-SGD training steps (Sgd::Step, NLL) of a net of
// `shape` on random inputs. Steps are timed with `step_clock`
// (seconds_per_step), the whole call with `wall_clock` (elapsed_seconds, what
// the budget bounds); RealStepTimers (worker/auto_plan.h) times steps in the
// thread's CPU time with one thread, in wall time with more (the helper
// threads' time is not the caller's). The first Measure of each
// (backend, width) runs one untimed step (first touch of its buffers,
// OpenBLAS's start-up), then steps until min_seconds have passed (at most
// max_steps). With
// threads > 1 the small-batch products are split over that many threads
// (ml/kernel_threads.h), as a trial with that many threads runs them.
struct StepTimerOptions {
  // The paper's largest net, the shape of its sweeps.
  MlpShape shape{.input_dim = 784,
                 .hidden = {1000, 1000, 1000, 1000, 1000},
                 .output_dim = 10,
                 .activation = Activation::kTanh};
  int threads = 1;
  double min_seconds = 0.02;  // per measurement: >= 8 steps at minibatch 1
  int64_t max_steps = 1000;
  uint64_t seed = 1;  // weights and inputs
};

class TrainingStepTimer final : public StepTimer {
 public:
  // The clocks must outlive the timer. InvalidArgument for a bad shape.
  static absl::StatusOr<std::unique_ptr<TrainingStepTimer>> Create(const Clock* wall_clock,
                                                                   const Clock* step_clock,
                                                                   StepTimerOptions options = {});
  StepTiming Measure(GemmBackend backend, int columns) override;

 private:
  TrainingStepTimer(const Clock* wall_clock, const Clock* step_clock, StepTimerOptions options,
                    Mlp<float> net);

  const Clock* wall_clock_;
  const Clock* step_clock_;
  StepTimerOptions options_;
  Mlp<float> net_;
  Pass<float> pass_;
  std::map<int, Examples> inputs_;            // by width
  std::map<std::pair<int, int>, bool> warm_;  // (backend, width) measured before
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_AUTO_CALIBRATION_H_
