// FailingSweepStore: a SweepStore that forwards to another one but fails the
// next N submitted mutations with UNAVAILABLE (storing nothing), as a full
// disk or an I/O error would.
//
// Thread-safety: as the wrapped store.
#ifndef DEEPSWEEP_TESTS_TESTING_FAILING_SWEEP_STORE_H_
#define DEEPSWEEP_TESTS_TESTING_FAILING_SWEEP_STORE_H_

#include <atomic>
#include <vector>

#include "core/sweep_store.h"

namespace deepsweep {

class FailingSweepStore final : public SweepStore {
 public:
  explicit FailingSweepStore(SweepStore* store) : store_(store) {}

  // The next `n` Submit() calls fail.
  void FailNextWrites(int n) { failures_ = n; }

  PendingWrite Submit(StoreMutation mutation) override {
    if (failures_.fetch_sub(1) > 0) {
      return PendingWrite(absl::UnavailableError("injected write failure"));
    }
    failures_ = 0;
    return store_->Submit(std::move(mutation));
  }
  void Flush() override { store_->Flush(); }
  absl::StatusOr<CreatedSweep> CreateSweep(const NewSweep& sweep,
                                           absl::Span<const TrialSpec> trials) override {
    return store_->CreateSweep(sweep, trials);
  }
  absl::StatusOr<UnfinishedWork> LoadUnfinished() override { return store_->LoadUnfinished(); }
  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override { return store_->GetSweep(id); }
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override { return store_->ListSweeps(); }
  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override { return store_->GetTrial(id); }
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override {
    return store_->ListTrials(query);
  }
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId trial, int attempt,
                                                         bool with_layer_stats) override {
    return store_->GetCheckpoints(trial, attempt, with_layer_stats);
  }
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override { return store_->ListWorkers(); }
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId trial) override {
    return store_->ListAttempts(trial);
  }
  absl::StatusOr<std::vector<ConfigAggregate>> AggregateConfigs(SweepId sweep) override {
    return store_->AggregateConfigs(sweep);
  }
  absl::StatusOr<std::vector<StepAggregate>> AggregateCheckpoints(
      SweepId sweep, const TrialSpec& config) override {
    return store_->AggregateCheckpoints(sweep, config);
  }
  absl::StatusOr<std::vector<absl::Time>> RecentFinishTimes(SweepId sweep, int limit) override {
    return store_->RecentFinishTimes(sweep, limit);
  }

 private:
  SweepStore* const store_;
  std::atomic<int> failures_{0};
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_TESTS_TESTING_FAILING_SWEEP_STORE_H_
