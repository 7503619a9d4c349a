#include "core/trial_query.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace deepsweep {
namespace {

constexpr std::array<TrialField, 23> kFields = {{
    {"id", TrialFieldKind::kInteger},
    {"sweep_id", TrialFieldKind::kInteger},
    {"index", TrialFieldKind::kInteger, "trial_index"},
    {"state", TrialFieldKind::kText},
    {"dataset", TrialFieldKind::kText},
    {"activation", TrialFieldKind::kText},
    {"init", TrialFieldKind::kText},
    {"depth", TrialFieldKind::kInteger},
    {"width", TrialFieldKind::kInteger},
    {"learning_rate", TrialFieldKind::kReal},
    {"batch_size", TrialFieldKind::kInteger},
    {"loss", TrialFieldKind::kText},
    {"momentum", TrialFieldKind::kReal},
    {"seed", TrialFieldKind::kInteger},
    {"seed_index", TrialFieldKind::kInteger},
    {"data_seed", TrialFieldKind::kInteger},
    {"attempt", TrialFieldKind::kInteger},
    {"final_test_error", TrialFieldKind::kReal},
    {"final_test_nll", TrialFieldKind::kReal},
    {"final_validation_error", TrialFieldKind::kReal},
    {"steps_done", TrialFieldKind::kInteger},
    {"worker_id", TrialFieldKind::kText},
    {"reason", TrialFieldKind::kText},
}};

// SQLite stores NaN as NULL; the in-memory store matches it.
TrialFieldValue OptionalReal(const std::optional<double>& value) {
  if (!value.has_value() || std::isnan(*value)) return {};
  return *value;
}

absl::StatusOr<TrialFieldValue> ParseValue(const TrialField& field, const std::string& text) {
  switch (field.kind) {
    case TrialFieldKind::kInteger: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("condition on ", field.name, ": expected an integer, got \"", text, "\""));
      }
      return v;
    }
    case TrialFieldKind::kReal: {
      double v = 0;
      if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("condition on ", field.name, ": expected a number, got \"", text, "\""));
      }
      return v;
    }
    case TrialFieldKind::kText:
      if (std::string_view(field.name) == "state" && !ParseTrialState(text).has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "condition on state: unknown state \"", text,
            "\" (expected pending, leased, succeeded, diverged, failed or cancelled)"));
      }
      return text;
  }
  return absl::InternalError("unreachable field kind");
}

template <typename T>
int Compare(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Three-way comparison with SQL's NULL-first ordering. Both values come from
// the same field, so they hold the same alternative or monostate.
int CompareValues(const TrialFieldValue& a, const TrialFieldValue& b) {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  if (const auto* x = std::get_if<int64_t>(&a)) return Compare(*x, std::get<int64_t>(b));
  if (const auto* x = std::get_if<double>(&a)) return Compare(*x, std::get<double>(b));
  if (const auto* x = std::get_if<std::string>(&a)) return x->compare(std::get<std::string>(b));
  return 0;
}

}  // namespace

std::span<const TrialField> QueryableTrialFields() { return kFields; }

const TrialField* FindTrialField(std::string_view name) {
  for (const TrialField& f : kFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view TrialConditionOpSymbol(TrialCondition::Op op) {
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
  return "=";
}

absl::StatusOr<ResolvedTrialQuery> ResolveTrialQuery(const TrialQuery& query) {
  ResolvedTrialQuery resolved;
  if (query.sweep_id.has_value()) {
    resolved.predicates.push_back(
        {FindTrialField("sweep_id"), TrialCondition::Op::kEq, int64_t{*query.sweep_id}});
  }
  for (const TrialCondition& c : query.conditions) {
    const TrialField* field = FindTrialField(c.field);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown trial field \"", c.field, "\""));
    }
    auto value = ParseValue(*field, c.value);
    if (!value.ok()) return value.status();
    resolved.predicates.push_back({field, c.op, *std::move(value)});
  }
  resolved.order_by = FindTrialField(query.order_by.empty() ? "id" : query.order_by);
  if (resolved.order_by == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot order by unknown trial field \"", query.order_by, "\""));
  }
  if (query.limit < 0 || query.offset < 0) {
    return absl::InvalidArgumentError("limit and offset must not be negative");
  }
  resolved.descending = query.descending;
  resolved.limit = query.limit;
  resolved.offset = query.offset;
  return resolved;
}

TrialFieldValue TrialFieldOf(const TrialRecord& t, const TrialField& field) {
  const std::string_view n = field.name;
  const TrialSpec& s = t.spec;
  if (n == "id") return int64_t{t.id};
  if (n == "sweep_id") return int64_t{t.sweep_id};
  if (n == "state") return std::string(TrialStateName(t.state));
  if (n == "dataset") return s.dataset.name;
  if (n == "activation") return s.activation;
  if (n == "init") return s.init;
  if (n == "depth") return int64_t{s.depth};
  if (n == "width") return int64_t{s.width};
  if (n == "learning_rate") return s.learning_rate;
  if (n == "batch_size") return int64_t{s.batch_size};
  if (n == "loss") return s.loss;
  if (n == "momentum") return s.momentum;
  if (n == "seed") return static_cast<int64_t>(s.seed);
  if (n == "seed_index") return int64_t{s.seed_index};
  if (n == "data_seed") return static_cast<int64_t>(s.data_seed);
  if (n == "attempt") return int64_t{t.attempt};
  if (n == "index") return int64_t{t.index};
  if (n == "final_test_error") return OptionalReal(t.final_test_error);
  if (n == "final_test_nll") return OptionalReal(t.final_test_nll);
  if (n == "final_validation_error") return OptionalReal(t.final_validation_error);
  if (n == "steps_done") return int64_t{t.steps_done};
  if (n == "worker_id") return t.worker_id;
  if (n == "reason") return t.reason;
  return {};
}

bool Satisfies(const TrialRecord& trial, const TrialPredicate& p) {
  const TrialFieldValue v = TrialFieldOf(trial, *p.field);
  if (std::holds_alternative<std::monostate>(v)) return false;
  const int c = CompareValues(v, p.value);
  switch (p.op) {
    case TrialCondition::Op::kEq:
      return c == 0;
    case TrialCondition::Op::kNe:
      return c != 0;
    case TrialCondition::Op::kLt:
      return c < 0;
    case TrialCondition::Op::kLe:
      return c <= 0;
    case TrialCondition::Op::kGt:
      return c > 0;
    case TrialCondition::Op::kGe:
      return c >= 0;
  }
  return false;
}

bool TrialOrderLess(const TrialRecord& a, const TrialRecord& b, const TrialField& field,
                    bool descending) {
  const int c = CompareValues(TrialFieldOf(a, field), TrialFieldOf(b, field));
  if (c != 0) return descending ? c > 0 : c < 0;
  return a.id < b.id;
}

}  // namespace deepsweep
