#include "core/paper_table.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/trial_fields.h"

namespace deepsweep {
namespace {

// The succeeded trials of one configuration within one cell.
struct Candidate {
  TrialSpec spec;
  std::vector<double> test_errors;
  std::vector<double> validation_errors;
  bool all_validated = true;
};

double Mean(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::vector<TrialFieldValue> ConfigKeyOf(const TrialSpec& spec) {
  std::vector<TrialFieldValue> key;
  for (const SpecField& field : ConfigFields()) key.push_back(field.get(spec));
  return key;
}

template <typename T>
size_t IndexOf(std::vector<T>& ordered, const T& value) {
  auto it = std::find(ordered.begin(), ordered.end(), value);
  if (it != ordered.end()) return static_cast<size_t>(it - ordered.begin());
  ordered.push_back(value);
  return ordered.size() - 1;
}

// One configuration of a cell, summarized: its test errors, and the mean of
// its validation errors when every succeeded trial has one.
struct Summarized {
  TrialSpec spec;
  SampleSummary test_error;
  std::optional<double> validation_mean;
};

// The cell's choice: the lowest mean validation error (or test error, when
// some configuration lacks validation errors) wins.
PaperCell SelectCell(const std::vector<Summarized>& candidates) {
  const bool on_validation =
      std::all_of(candidates.begin(), candidates.end(),
                  [](const Summarized& c) { return c.validation_mean.has_value(); });
  auto score = [&](const Summarized& c) {
    return on_validation ? *c.validation_mean : c.test_error.mean;
  };
  const Summarized* best = &candidates.front();
  for (const Summarized& candidate : candidates) {
    if (score(candidate) < score(*best)) best = &candidate;
  }
  PaperCell cell;
  cell.test_error = best->test_error;
  cell.candidates = static_cast<int>(candidates.size());
  cell.selected_on_test = !on_validation;
  std::vector<TrialSpec> specs;
  for (const Summarized& candidate : candidates) specs.push_back(candidate.spec);
  const std::vector<const SpecField*> varying = VaryingConfigFields(specs);
  cell.selected = varying.empty() ? "" : ConfigLabel(best->spec, varying);
  return cell;
}

// Rows (activation, init) and columns (dataset) in first-seen order, each
// cell's configurations in first-seen order.
class TableBuilder {
 public:
  // Registers the row and column of `spec` (also for trials that add no data).
  std::pair<size_t, size_t> Place(const TrialSpec& spec) {
    return {IndexOf(rows_, std::pair{spec.activation, spec.init}),
            IndexOf(table_.datasets, spec.dataset.name)};
  }
  void Add(std::pair<size_t, size_t> position, Summarized candidate) {
    cells_[position].push_back(std::move(candidate));
  }
  PaperTable Build() && {
    for (const auto& [activation, init] : rows_) {
      table_.rows.push_back(PaperRow{activation, init, {}});
    }
    for (const auto& [position, candidates] : cells_) {
      table_.rows[position.first].cells.emplace(table_.datasets[position.second],
                                                SelectCell(candidates));
    }
    return std::move(table_);
  }

 private:
  PaperTable table_;
  std::vector<std::pair<std::string, std::string>> rows_;  // (activation, init)
  std::map<std::pair<size_t, size_t>, std::vector<Summarized>> cells_;
};

absl::Status CheckConfidence(double confidence) {
  if (confidence > 0 && confidence < 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("confidence must be in (0, 1), got ", confidence));
}

}  // namespace

absl::StatusOr<PaperTable> BuildPaperTable(absl::Span<const TrialRecord> trials,
                                           double confidence) {
  RETURN_IF_ERROR(CheckConfidence(confidence));
  TableBuilder builder;
  // cells[(row, column)] = candidate configurations in first-seen order.
  std::map<std::pair<size_t, size_t>, std::vector<Candidate>> cells;
  std::map<std::pair<size_t, size_t>, std::map<std::vector<TrialFieldValue>, size_t>>
      candidate_index;
  for (const TrialRecord& trial : trials) {
    const std::pair<size_t, size_t> position = builder.Place(trial.spec);
    if (trial.state != TrialState::kSucceeded || !trial.final_test_error.has_value()) continue;
    std::vector<Candidate>& candidates = cells[position];
    auto [it, inserted] =
        candidate_index[position].emplace(ConfigKeyOf(trial.spec), candidates.size());
    if (inserted) candidates.push_back(Candidate{trial.spec, {}, {}, true});
    Candidate& candidate = candidates[it->second];
    candidate.test_errors.push_back(*trial.final_test_error);
    if (trial.final_validation_error.has_value()) {
      candidate.validation_errors.push_back(*trial.final_validation_error);
    } else {
      candidate.all_validated = false;
    }
  }
  for (const auto& [position, candidates] : cells) {
    for (const Candidate& c : candidates) {
      ASSIGN_OR_RETURN(SampleSummary test_error, Summarize(c.test_errors, confidence));
      builder.Add(position,
                  Summarized{.spec = c.spec,
                             .test_error = test_error,
                             .validation_mean =
                                 c.all_validated ? std::optional<double>(Mean(c.validation_errors))
                                                 : std::nullopt});
    }
  }
  return std::move(builder).Build();
}

absl::StatusOr<PaperTable> BuildPaperTable(absl::Span<const ConfigAggregate> configs,
                                           double confidence) {
  RETURN_IF_ERROR(CheckConfidence(confidence));
  TableBuilder builder;
  for (const ConfigAggregate& c : configs) {
    const std::pair<size_t, size_t> position = builder.Place(c.config);
    if (c.n == 0) continue;
    ASSIGN_OR_RETURN(SampleSummary test_error,
                     SummarizeSums(c.n, c.sum_test_error, c.sum_squares_test_error, confidence));
    builder.Add(position,
                Summarized{.spec = c.config,
                           .test_error = test_error,
                           .validation_mean =
                               c.n_validation == c.n
                                   ? std::optional<double>(c.sum_validation_error /
                                                           static_cast<double>(c.n_validation))
                                   : std::nullopt});
  }
  return std::move(builder).Build();
}

}  // namespace deepsweep
