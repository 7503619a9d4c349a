#include "client/trial_filter.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace deepsweep::client {
namespace {

enum class FieldKind { kInteger, kReal, kText, kState };

struct FieldInfo {
  std::string_view name;
  FieldKind kind;
};

constexpr std::array<FieldInfo, 18> kFields = {{
    {"id", FieldKind::kInteger},
    {"sweep_id", FieldKind::kInteger},
    {"state", FieldKind::kState},
    {"dataset", FieldKind::kText},
    {"activation", FieldKind::kText},
    {"init", FieldKind::kText},
    {"depth", FieldKind::kInteger},
    {"width", FieldKind::kInteger},
    {"learning_rate", FieldKind::kReal},
    {"batch_size", FieldKind::kInteger},
    {"loss", FieldKind::kText},
    {"momentum", FieldKind::kReal},
    {"seed", FieldKind::kInteger},
    {"seed_index", FieldKind::kInteger},
    {"attempt", FieldKind::kInteger},
    {"final_test_error", FieldKind::kReal},
    {"steps_done", FieldKind::kInteger},
    {"worker_id", FieldKind::kText},
}};

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

absl::StatusOr<FieldKind> FindField(std::string_view name) {
  for (const FieldInfo& field : kFields) {
    if (field.name == name) return field.kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trial field '", AbslView(name),
                   "' (known: ", absl::StrJoin(TrialFilterFields(), ", "), ")"));
}

absl::Status CheckValue(std::string_view field, FieldKind kind, std::string_view value) {
  switch (kind) {
    case FieldKind::kInteger: {
      int64_t signed_value = 0;
      uint64_t unsigned_value = 0;  // seeds use the full 64 bits
      if (absl::SimpleAtoi(AbslView(value), &signed_value) ||
          absl::SimpleAtoi(AbslView(value), &unsigned_value)) {
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(field), " needs an integer, got '", AbslView(value), "'"));
    }
    case FieldKind::kReal: {
      double real = 0;
      if (absl::SimpleAtod(AbslView(value), &real)) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(field), " needs a number, got '", AbslView(value), "'"));
    }
    case FieldKind::kState:
      if (ParseTrialState(value).has_value()) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("unknown state '", AbslView(value),
                       "' (known: pending, leased, succeeded, diverged, failed, cancelled)"));
    case FieldKind::kText:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& TrialFilterFields() {
  static const auto* const fields = [] {
    auto* names = new std::vector<std::string>();
    for (const FieldInfo& field : kFields) names->emplace_back(field.name);
    return names;
  }();
  return *fields;
}

std::string_view TrialConditionOpText(TrialCondition::Op op) {
  switch (op) {
    case TrialCondition::Op::kEq:
      return "=";
    case TrialCondition::Op::kNe:
      return "!=";
    case TrialCondition::Op::kLt:
      return "<";
    case TrialCondition::Op::kLe:
      return "<=";
    case TrialCondition::Op::kGt:
      return ">";
    case TrialCondition::Op::kGe:
      return ">=";
  }
  return "?";
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
  ASSIGN_OR_RETURN(const FieldKind kind, FindField(condition.field));
  RETURN_IF_ERROR(CheckValue(condition.field, kind, condition.value));
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
  RETURN_IF_ERROR(FindField(sort).status());
  query.order_by = std::string(sort);
  if (args.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be >= 0, got ", args.limit));
  }
  query.limit = args.limit;
  return query;
}

}  // namespace deepsweep::client
