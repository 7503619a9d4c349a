#include "client/trial_filter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>

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

// The shell-safe spelling FIELD:OP:VALUE, e.g. depth:ge:3 (no < or > for the
// shell to read as a redirection).
constexpr std::array<std::pair<std::string_view, TrialCondition::Op>, 6> kWordOps = {{
    {"eq", TrialCondition::Op::kEq},
    {"ne", TrialCondition::Op::kNe},
    {"lt", TrialCondition::Op::kLt},
    {"le", TrialCondition::Op::kLe},
    {"gt", TrialCondition::Op::kGt},
    {"ge", TrialCondition::Op::kGe},
}};

absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

// FIELD:OP:VALUE when `text` has that shape (FIELD of letters, digits and _),
// with OP one of kWordOps; nullopt otherwise.
std::optional<TrialCondition> ParseWordCondition(std::string_view text) {
  const size_t first = text.find(':');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const std::string_view field = text.substr(0, first);
  for (char c : field) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  }
  const std::string_view rest = text.substr(first + 1);
  for (const auto& [word, op] : kWordOps) {
    if (rest.size() > word.size() && rest.starts_with(word) && rest[word.size()] == ':') {
      return TrialCondition{.field = std::string(field),
                            .op = op,
                            .value = std::string(rest.substr(word.size() + 1))};
    }
  }
  return std::nullopt;
}

// INVALID_ARGUMENT listing the known fields when `name` is not one of them.
absl::Status CheckField(std::string_view name) {
  if (FindTrialField(name) != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trial field '", AbslView(name),
                   "' (known: ", absl::StrJoin(TrialFilterFields(), ", "), ")"));
}

// FIELD OP VALUE with OP one of kOps, e.g. depth>=3.
absl::StatusOr<TrialCondition> ParseSymbolCondition(std::string_view text) {
  const size_t op_start = text.find_first_of("=!<>");
  if (op_start == std::string_view::npos || op_start == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed filter '", AbslView(text),
        "' (expected FIELD OP VALUE with OP one of = != < <= > >=, quoted for the shell as in "
        "'depth>=3', or FIELD:OP:VALUE with OP one of eq ne lt le gt ge, as in depth:ge:3)"));
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
  if (condition.value.find_first_of("=<>!") == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed operator in filter '", AbslView(text), "'"));
  }
  return condition;
}

}  // namespace

bool LooksLikeTrialCondition(std::string_view text) {
  return ParseWordCondition(text).has_value() || text.find_first_of("=<>!") != std::string::npos;
}

const std::vector<std::string>& TrialFilterFields() {
  static const auto* const fields = [] {
    auto* names = new std::vector<std::string>();
    for (const TrialField& field : QueryableTrialFields()) names->emplace_back(field.name);
    return names;
  }();
  return *fields;
}

absl::StatusOr<TrialCondition> ParseTrialCondition(std::string_view text) {
  std::optional<TrialCondition> condition = ParseWordCondition(text);
  if (!condition.has_value()) {
    ASSIGN_OR_RETURN(condition, ParseSymbolCondition(text));
  }
  if (condition->value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("filter '", AbslView(text), "' has no value"));
  }
  RETURN_IF_ERROR(CheckField(condition->field));
  // The coordinator's own resolution checks the value against the field.
  TrialQuery query;
  query.conditions.push_back(*condition);
  RETURN_IF_ERROR(ResolveTrialQuery(query).status());
  return *std::move(condition);
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
