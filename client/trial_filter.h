// Trial filters as users type them on the command line, parsed into the
// Coordinator's TrialQuery:
//
//   deepsweep results 3 activation=tanh 'depth>=3' state=succeeded --sort -final_test_error
//   deepsweep results 3 activation=tanh depth:ge:3 state=succeeded   (the same, shell-safe)
//
// A condition is FIELD OP VALUE with OP one of = (or ==), !=, <, <=, >, >=
// (< and > need quotes in a shell), or FIELD:OP:VALUE with OP one of eq, ne,
// lt, le, gt, ge (no quotes needed); FIELD is one of the queryable trial
// fields, named as `results` prints them (core/trial_query.h). Numeric
// fields need a numeric value, `state` a state name (checked by the
// coordinator's own core/trial_query.h, so errors are caught before any call).
// A sort key is a field, with a leading '-' for descending order.
//
// Errors: INVALID_ARGUMENT naming the offending text and what was expected.
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_CLIENT_TRIAL_FILTER_H_
#define DEEPSWEEP_CLIENT_TRIAL_FILTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/coordinator.h"

namespace deepsweep::client {

// The fields a filter or sort key may name, in TrialCondition's order.
const std::vector<std::string>& TrialFilterFields();

// True when `text` has the shape of a condition (an operator, or the
// FIELD:OP:VALUE form) rather than of a sweep or trial id.
bool LooksLikeTrialCondition(std::string_view text);

// Parses one condition such as "depth>=3" or "depth:ge:3".
absl::StatusOr<TrialCondition> ParseTrialCondition(std::string_view text);

struct TrialFilterArgs {
  std::optional<SweepId> sweep_id;
  std::vector<std::string> conditions;  // e.g. {"activation=tanh", "depth>=3"}
  std::string sort = "id";              // field, '-' prefix = descending
  int64_t limit = 0;                    // 0 = all
};

// Builds the TrialQuery for `args`, validating every part.
absl::StatusOr<TrialQuery> ParseTrialQuery(const TrialFilterArgs& args);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_TRIAL_FILTER_H_
