#include "client/trial_filter.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "core/trial_query.h"

namespace deepsweep::client {
namespace {

// Longest operators first so "<=" is not read as "<".
constexpr std::array<std::pair<std::string_view, TrialCondition::Op>, 7> kOps = {{
    {">=", TrialCondition::Op::kGe},
    {"<=", TrialCondition::Op::kLe},
    {"!=", TrialCondition::Op::kNe},
    {"==", TrialCondition::Op::kEq},
    {"=", TrialCondition::Op::kEq},
    {">", TrialCondition::Op::kGt},
    {"<", TrialCondition::Op::kLt},
}};

absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

// INVALID_ARGUMENT listing the known fields when `name` is not one of them.
absl::Status CheckField(std::string_view name) {
  if (FindTrialField(name) != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trial field '", AbslView(name),
                   "' (known: ", absl::StrJoin(TrialFilterFields(), ", "), ")"));
}

}  // namespace

const std::vector<std::string>& TrialFilterFields() {
  static const auto* const fields = [] {
    auto* names = new std::vector<std::string>();
    for (const TrialField& field : QueryableTrialFields()) names->emplace_back(field.name);
    return names;
  }();
  return *fields;
}

absl::StatusOr<TrialCondition> ParseTrialCondition(std::string_view text) {
  const size_t op_start = text.find_first_of("=!<>");
  if (op_start == std::string_view::npos || op_start == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed filter '", AbslView(text),
                     "' (expected FIELD OP VALUE with OP one of = != < <= > >=, e.g. depth>=3)"));
  }
  TrialCondition condition;
  condition.field = std::string(text.substr(0, op_start));
  std::string_view rest = text.substr(op_start);
  const auto op = std::find_if(kOps.begin(), kOps.end(),
                               [&](const auto& entry) { return rest.starts_with(entry.first); });
  if (op == kOps.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed operator in filter '", AbslView(text), "'"));
  }
  condition.op = op->second;
  condition.value = std::string(rest.substr(op->first.size()));
  if (condition.value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("filter '", AbslView(text), "' has no value"));
  }
  if (condition.value.find_first_of("=<>!") == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed operator in filter '", AbslView(text), "'"));
  }
  RETURN_IF_ERROR(CheckField(condition.field));
  // The coordinator's own resolution checks the value against the field.
  TrialQuery query;
  query.conditions.push_back(condition);
  RETURN_IF_ERROR(ResolveTrialQuery(query).status());
  return condition;
}

absl::StatusOr<TrialQuery> ParseTrialQuery(const TrialFilterArgs& args) {
  TrialQuery query;
  query.sweep_id = args.sweep_id;
  for (const std::string& text : args.conditions) {
    ASSIGN_OR_RETURN(TrialCondition condition, ParseTrialCondition(text));
    query.conditions.push_back(std::move(condition));
  }
  std::string_view sort = args.sort;
  if (sort.starts_with('-')) {
    query.descending = true;
    sort.remove_prefix(1);
  }
  if (sort.empty()) return absl::InvalidArgumentError("empty sort key");
  RETURN_IF_ERROR(CheckField(sort));
  query.order_by = std::string(sort);
  if (args.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be >= 0, got ", args.limit));
  }
  query.limit = args.limit;
  return query;
}

}  // namespace deepsweep::client
