#include "client/summary.h"

#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/trial_fields.h"

namespace deepsweep::client {
namespace {

absl::StatusOr<std::vector<const SpecField*>> GroupingFields(absl::Span<const TrialRecord> trials,
                                                             const SummaryOptions& options) {
  std::vector<const SpecField*> fields;
  if (!options.by.empty()) {
    for (const std::string& name : options.by) {
      ASSIGN_OR_RETURN(const SpecField* field, FindConfigField(name));
      fields.push_back(field);
    }
    return fields;
  }
  std::vector<TrialSpec> specs;
  specs.reserve(trials.size());
  for (const TrialRecord& trial : trials) specs.push_back(trial.spec);
  return VaryingConfigFields(specs);
}

void Count(const TrialRecord& trial, ConfigSummary& config) {
  switch (trial.state) {
    case TrialState::kSucceeded:
      if (trial.final_test_error.has_value()) config.errors.push_back(*trial.final_test_error);
      break;
    case TrialState::kDiverged:
      ++config.diverged;
      break;
    case TrialState::kFailed:
    case TrialState::kCancelled:
      ++config.failed;
      break;
    case TrialState::kPruned:
      ++config.pruned;
      break;
    case TrialState::kPending:
    case TrialState::kLeased:
      ++config.unfinished;
      break;
  }
}

}  // namespace

absl::StatusOr<SweepSummary> SummarizeTrials(absl::Span<const TrialRecord> trials,
                                             const SummaryOptions& options) {
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence must be in (0, 1), got ", options.confidence));
  }
  ASSIGN_OR_RETURN(const std::vector<const SpecField*> fields, GroupingFields(trials, options));
  SweepSummary summary;
  for (const SpecField* field : fields) summary.fields.emplace_back(field->name);

  std::map<std::vector<Value>, size_t> index_of;
  for (const TrialRecord& trial : trials) {
    std::vector<Value> key;
    for (const SpecField* field : fields) key.push_back(ToValue(field->get(trial.spec)));
    auto [it, inserted] = index_of.emplace(key, summary.configs.size());
    if (inserted) {
      ConfigSummary& config = summary.configs.emplace_back();
      config.key = std::move(key);
      config.label = ConfigLabel(trial.spec, fields);
    }
    Count(trial, summary.configs[it->second]);
  }
  for (ConfigSummary& config : summary.configs) {
    if (config.errors.empty()) continue;
    ASSIGN_OR_RETURN(config.stats, Summarize(config.errors, options.confidence));
  }
  std::stable_sort(summary.configs.begin(), summary.configs.end(),
                   [](const ConfigSummary& x, const ConfigSummary& y) {
                     if (x.stats.has_value() != y.stats.has_value()) return x.stats.has_value();
                     return x.stats.has_value() && x.stats->mean < y.stats->mean;
                   });
  if (summary.configs.empty() || !summary.configs.front().stats.has_value()) return summary;
  summary.best = 0;
  summary.configs.front().best = true;

  auto comparable = [&](size_t i) { return summary.configs[i].errors.size() >= 2; };
  for (size_t a = 0; a < summary.configs.size(); ++a) {
    if (!options.all_pairs && a > 0) break;
    if (!comparable(a)) continue;
    for (size_t b = a + 1; b < summary.configs.size(); ++b) {
      if (!comparable(b)) continue;
      ConfigComparison comparison;
      comparison.a = a;
      comparison.b = b;
      ASSIGN_OR_RETURN(comparison.welch,
                       WelchTTest(summary.configs[a].errors, summary.configs[b].errors));
      summary.comparisons.push_back(comparison);
    }
  }
  std::vector<double> p_values;
  for (const ConfigComparison& c : summary.comparisons) p_values.push_back(c.welch.p_value);
  const std::vector<double> adjusted = HolmAdjust(p_values);
  for (size_t i = 0; i < summary.comparisons.size(); ++i) {
    summary.comparisons[i].p_holm = adjusted[i];
    summary.comparisons[i].significant = adjusted[i] <= options.alpha;
  }
  return summary;
}

}  // namespace deepsweep::client
