#include "core/sweep_store.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace deepsweep {

TrialSpec ConfigOf(const TrialSpec& spec) {
  TrialSpec config = spec;
  config.seed = 0;
  config.data_seed = 0;
  config.seed_index = 0;
  return config;
}

void AddToCounts(TrialState state, int64_t n, TrialCounts& counts) {
  switch (state) {
    case TrialState::kPending:
      counts.pending += n;
      return;
    case TrialState::kLeased:
      counts.leased += n;
      return;
    case TrialState::kSucceeded:
      counts.succeeded += n;
      return;
    case TrialState::kDiverged:
      counts.diverged += n;
      return;
    case TrialState::kFailed:
      counts.failed += n;
      return;
    case TrialState::kCancelled:
      counts.cancelled += n;
      return;
    case TrialState::kPruned:
      counts.pruned += n;
      return;
  }
}

absl::Status CheckStorable(absl::Span<const TrialSpec> trials) {
  for (const TrialSpec& t : trials) {
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (t.seed > kMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("trial seed ", t.seed, " does not fit in 63 bits"));
    }
    if (t.data_seed > kMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("data seed ", t.data_seed, " does not fit in 63 bits"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLayerStatsDistinct(const Checkpoint& checkpoint) {
  std::vector<std::pair<int, LayerQuantity>> keys;
  keys.reserve(checkpoint.layer_stats.size());
  for (const LayerStat& s : checkpoint.layer_stats) keys.emplace_back(s.layer, s.quantity);
  std::sort(keys.begin(), keys.end());
  if (auto twice = std::adjacent_find(keys.begin(), keys.end()); twice != keys.end()) {
    return RepeatedLayerStatError(checkpoint, twice->first, twice->second);
  }
  return absl::OkStatus();
}

absl::Status RepeatedLayerStatError(const Checkpoint& checkpoint, int layer,
                                    LayerQuantity quantity) {
  return absl::InvalidArgumentError(
      absl::StrCat("checkpoint at step ", checkpoint.step, ": layer ", layer, " ",
                   std::string(LayerQuantityName(quantity)), " appears twice"));
}

absl::Status TrialChangedError(const TrialUpdate& u) {
  return absl::AbortedError(absl::StrCat("trial ", u.id, " is no longer ",
                                         std::string(TrialStateName(u.expect_state)),
                                         " at attempt ", u.expect_attempt));
}

class PendingWrite::Completion {
 public:
  void Complete(absl::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    done_ = true;
  }
  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

PendingWrite::PendingWrite(absl::Status status) : status_(std::move(status)) {}

PendingWrite::PendingWrite(std::shared_ptr<Completion> completion)
    : completion_(std::move(completion)) {}

PendingWrite& PendingWrite::operator=(PendingWrite&& other) {
  if (this != &other) {
    Wait().IgnoreError();
    completion_ = std::move(other.completion_);
    status_ = std::move(other.status_);
  }
  return *this;
}

PendingWrite::~PendingWrite() { Wait().IgnoreError(); }

absl::Status PendingWrite::Wait() {
  if (!status_.has_value()) {
    status_ = completion_ != nullptr ? completion_->Wait() : absl::OkStatus();
    completion_.reset();
  }
  return *status_;
}

std::shared_ptr<PendingWrite::Completion> PendingWrite::NewCompletion() {
  return std::make_shared<Completion>();
}

void PendingWrite::Complete(Completion& completion, absl::Status status) {
  completion.Complete(std::move(status));
}

}  // namespace deepsweep
