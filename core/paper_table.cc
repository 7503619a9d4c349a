#include "core/paper_table.h"

#include <algorithm>
#include <numeric>
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

absl::StatusOr<PaperCell> SelectCell(const std::vector<Candidate>& candidates, double confidence) {
  const bool on_validation = std::all_of(candidates.begin(), candidates.end(),
                                         [](const Candidate& c) { return c.all_validated; });
  auto score = [&](const Candidate& c) {
    return on_validation ? Mean(c.validation_errors) : Mean(c.test_errors);
  };
  const Candidate* best = &candidates.front();
  for (const Candidate& candidate : candidates) {
    if (score(candidate) < score(*best)) best = &candidate;
  }
  PaperCell cell;
  ASSIGN_OR_RETURN(cell.test_error, Summarize(best->test_errors, confidence));
  cell.candidates = static_cast<int>(candidates.size());
  cell.selected_on_test = !on_validation;
  std::vector<TrialSpec> specs;
  for (const Candidate& candidate : candidates) specs.push_back(candidate.spec);
  const std::vector<const SpecField*> varying = VaryingConfigFields(specs);
  cell.selected = varying.empty() ? "" : ConfigLabel(best->spec, varying);
  return cell;
}

}  // namespace

absl::StatusOr<PaperTable> BuildPaperTable(absl::Span<const TrialRecord> trials,
                                           double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence must be in (0, 1), got ", confidence));
  }
  PaperTable table;
  std::vector<std::pair<std::string, std::string>> rows;  // (activation, init)
  // cells[row][dataset] = candidate configurations in first-seen order.
  std::map<std::pair<size_t, size_t>, std::vector<Candidate>> cells;
  std::map<std::pair<size_t, size_t>, std::map<std::vector<TrialFieldValue>, size_t>>
      candidate_index;
  for (const TrialRecord& trial : trials) {
    const size_t row = IndexOf(rows, std::pair{trial.spec.activation, trial.spec.init});
    const size_t column = IndexOf(table.datasets, trial.spec.dataset.name);
    if (trial.state != TrialState::kSucceeded || !trial.final_test_error.has_value()) continue;
    std::vector<Candidate>& candidates = cells[{row, column}];
    auto [it, inserted] =
        candidate_index[{row, column}].emplace(ConfigKeyOf(trial.spec), candidates.size());
    if (inserted) candidates.push_back(Candidate{trial.spec, {}, {}, true});
    Candidate& candidate = candidates[it->second];
    candidate.test_errors.push_back(*trial.final_test_error);
    if (trial.final_validation_error.has_value()) {
      candidate.validation_errors.push_back(*trial.final_validation_error);
    } else {
      candidate.all_validated = false;
    }
  }
  for (const auto& [activation, init] : rows) {
    table.rows.push_back(PaperRow{activation, init, {}});
  }
  for (const auto& [position, candidates] : cells) {
    ASSIGN_OR_RETURN(PaperCell cell, SelectCell(candidates, confidence));
    table.rows[position.first].cells.emplace(table.datasets[position.second], std::move(cell));
  }
  return table;
}

}  // namespace deepsweep
