// The paper's Table 1: test error by activation + initialization (rows) and
// dataset (columns), each cell a mean across seeds with its confidence
// interval.
//
// As in the paper, other hyperparameters (learning rate, depth, ...) are
// selected per cell: among the configurations of a cell, the one with the
// lowest mean final validation error over its succeeded trials wins, and the
// cell shows that configuration's test error. When some succeeded trial of a
// cell has no validation error the selection falls back to test error and the
// cell says so (selected_on_test), since that choice flatters the result.
// Trials that did not succeed are left out.
//
// Rows and columns keep the order in which trials first show them.
// Errors: INVALID_ARGUMENT for a bad confidence.
// Thread-safety: pure function.
#ifndef DEEPSWEEP_CORE_PAPER_TABLE_H_
#define DEEPSWEEP_CORE_PAPER_TABLE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/coordinator.h"
#include "core/stats.h"
#include "core/sweep_store.h"

namespace deepsweep {

struct PaperCell {
  SampleSummary test_error;  // of the selected configuration
  std::string selected;      // its other varying fields, e.g. "learning_rate=0.01"
  int candidates = 0;        // configurations the cell chose among
  bool selected_on_test = false;
};

struct PaperRow {
  std::string activation;
  std::string init;
  std::map<std::string, PaperCell> cells;  // by dataset; absent = no data
};

struct PaperTable {
  std::vector<std::string> datasets;
  std::vector<PaperRow> rows;
};

absl::StatusOr<PaperTable> BuildPaperTable(absl::Span<const TrialRecord> trials,
                                           double confidence = 0.95);

// The same table from a sweep's configuration aggregates (SweepStore::
// AggregateConfigs: sums computed by the store), so a large sweep's table
// costs one query rather than reading every trial. Equal to the above for
// the same trials, up to rounding in the standard deviation (SummarizeSums).
absl::StatusOr<PaperTable> BuildPaperTable(absl::Span<const ConfigAggregate> configs,
                                           double confidence = 0.95);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_PAPER_TABLE_H_
