#include "client/sweep_watch.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/trial_fields.h"
#include "rpc/sweep_progress.h"

namespace deepsweep::client {
namespace {

// How many running trials a plain line names before "+N more".
constexpr size_t kPlainRunning = 4;

int64_t Ran(const TrialCounts& c) { return c.succeeded + c.diverged + c.failed; }

}  // namespace

ProgressInputs ProgressInputsFor(const SweepRecord& sweep, const std::vector<TrialRecord>& trials) {
  ProgressInputs inputs;
  inputs.state = sweep.state;
  inputs.counts = sweep.counts;
  inputs.created_at = sweep.created_at;
  for (const TrialRecord& trial : trials) {
    switch (trial.state) {
      case TrialState::kSucceeded:
      case TrialState::kDiverged:
      case TrialState::kFailed:
      case TrialState::kPruned:
        inputs.finish_times.push_back(trial.updated_at);
        break;
      case TrialState::kLeased:
        inputs.partial += TrialFraction(trial.steps_done, trial.spec.updates);
        break;
      default:
        break;
    }
  }
  return inputs;
}

double TrialFraction(int64_t steps_done, int64_t updates) {
  if (updates <= 0) return 0;
  return std::clamp(static_cast<double>(steps_done) / static_cast<double>(updates), 0.0, 1.0);
}

std::vector<std::string> RunningLines(
    const std::vector<rpc::RunningTrial>& running,
    const absl::flat_hash_map<TrialId, TrialSpec>& specs, size_t limit,
    const absl::flat_hash_map<TrialId, std::optional<int64_t>>* snapshot_steps) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < running.size() && i < limit; ++i) {
    const rpc::RunningTrial& r = running[i];
    const auto spec = specs.find(r.trial_id);
    std::string line = absl::StrCat(
        "  ",
        spec != specs.end() ? TrialLabel(r.trial_id, spec->second) : absl::StrCat("#", r.trial_id),
        ": step ", r.steps_done, "/", r.updates, " on ", r.worker_id, " (attempt ", r.attempt, ")");
    if (snapshot_steps != nullptr) {
      const auto snapshot = snapshot_steps->find(r.trial_id);
      if (snapshot != snapshot_steps->end()) {
        absl::StrAppend(&line, snapshot->second.has_value()
                                   ? absl::StrCat(", snapshot at step ", *snapshot->second)
                                   : std::string(", no snapshot yet"));
      }
    }
    lines.push_back(std::move(line));
  }
  if (running.size() > limit)
    lines.push_back(absl::StrCat("  ... and ", running.size() - limit, " more"));
  if (!lines.empty()) lines.insert(lines.begin(), "running:");
  return lines;
}

SweepWatchView::SweepWatchView(SweepRecord sweep, const std::vector<TrialRecord>& trials,
                               SweepWatchOptions options, std::ostream& out)
    : sweep_(std::move(sweep)),
      options_(options),
      out_(out),
      inputs_(ProgressInputsFor(sweep_, trials)) {
  for (const TrialRecord& trial : trials) specs_.emplace(trial.id, trial.spec);
}

void SweepWatchView::Update(const rpc::SweepProgress& progress, absl::Time now) {
  // Completions since the last message finished about now.
  for (int64_t i = Ran(inputs_.counts); i < Ran(progress.counts); ++i) {
    inputs_.finish_times.push_back(now);
  }
  inputs_.counts = progress.counts;
  inputs_.state = progress.state;
  sweep_.counts = progress.counts;
  sweep_.state = progress.state;
  if (progress.state != SweepState::kActive && !sweep_.finished_at.has_value()) {
    sweep_.finished_at = now;
  }
  running_ = progress.running;
  inputs_.partial = 0;
  for (const rpc::RunningTrial& r : running_)
    inputs_.partial += TrialFraction(r.steps_done, r.updates);

  if (!last_event_.has_value() || rpc::ProgressChanged(*last_event_, progress)) {
    last_event_ = progress;
    line_due_ = true;
  }
  if (options_.terminal) {
    Draw(now);
    return;
  }
  if (line_due_ && (now - last_line_ >= options_.line_interval || rpc::IsSettled(progress))) {
    out_ << PlainLine(now) << std::endl;
    line_due_ = false;
    last_line_ = now;
  }
}

void SweepWatchView::Finish(absl::Time now) {
  if (options_.terminal || !line_due_) return;
  out_ << PlainLine(now) << std::endl;
  line_due_ = false;
  last_line_ = now;
}

void SweepWatchView::Draw(absl::Time now) {
  std::vector<std::string> lines = SweepStatusLines(sweep_, EstimateProgress(inputs_, now), now);
  for (std::string& line :
       RunningLines(running_, specs_, static_cast<size_t>(options_.running_lines))) {
    lines.push_back(std::move(line));
  }
  // Back to the block's first line, clear to the end of the screen, redraw.
  if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "F\x1b[J";
  for (const std::string& line : lines) out_ << line << '\n';
  out_.flush();
  drawn_ = lines.size();
}

std::string SweepWatchView::PlainLine(absl::Time now) const {
  std::string line = SweepStatusLine(sweep_, EstimateProgress(inputs_, now), now);
  if (running_.empty()) return line;
  absl::StrAppend(&line, "; running");
  for (size_t i = 0; i < running_.size() && i < kPlainRunning; ++i) {
    absl::StrAppend(&line, i == 0 ? " " : ", ", "#", running_[i].trial_id, " ",
                    running_[i].steps_done, "/", running_[i].updates);
  }
  if (running_.size() > kPlainRunning) {
    absl::StrAppend(&line, " +", running_.size() - kPlainRunning, " more");
  }
  return line;
}

}  // namespace deepsweep::client
