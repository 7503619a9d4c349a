// TrialQuery resolution: turns the user's textual TrialQuery (field names and
// values as strings) into typed predicates that every SweepStore evaluates the
// same way, in memory or in SQL.
//
// The queryable fields are the trial columns users filter on (see
// TrialCondition in core/coordinator.h and docs/SCHEMA.md); their names are
// also the SQLite column names. Comparison follows SQL: a field without a value
// (e.g. final_test_error before any checkpoint) satisfies no condition and
// sorts before every value.
//
// Errors: INVALID_ARGUMENT naming the unknown field, the unparsable value or
// the negative limit/offset.
// Thread-safety: pure functions over values.
#ifndef DEEPSWEEP_CORE_TRIAL_QUERY_H_
#define DEEPSWEEP_CORE_TRIAL_QUERY_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/coordinator.h"

namespace deepsweep {

enum class TrialFieldKind { kInteger, kReal, kText };

struct TrialField {
  const char* name;  // as users type it and `results` prints it
  TrialFieldKind kind;
  const char* column = nullptr;  // in the trials table, when not `name`

  const char* Column() const { return column != nullptr ? column : name; }
};

// Every field a TrialQuery may filter or order on.
std::span<const TrialField> QueryableTrialFields();
// nullptr when `name` is not queryable.
const TrialField* FindTrialField(std::string_view name);

// A field's value on one trial; monostate when it has none (SQL NULL).
using TrialFieldValue = std::variant<std::monostate, int64_t, double, std::string>;

struct TrialPredicate {
  const TrialField* field = nullptr;
  TrialCondition::Op op = TrialCondition::Op::kEq;
  TrialFieldValue value;  // never monostate; int64_t, double or string per field kind
};

struct ResolvedTrialQuery {
  std::vector<TrialPredicate> predicates;  // all must hold; sweep_id folded in
  const TrialField* order_by = nullptr;
  bool descending = false;
  int64_t limit = 0;  // 0 = no limit
  int64_t offset = 0;
};

absl::StatusOr<ResolvedTrialQuery> ResolveTrialQuery(const TrialQuery& query);

// "=", "!=", "<", "<=", ">", ">=".
std::string_view TrialConditionOpSymbol(TrialCondition::Op op);

TrialFieldValue TrialFieldOf(const TrialRecord& trial, const TrialField& field);
// SQL semantics: false whenever the trial has no value for the field.
bool Satisfies(const TrialRecord& trial, const TrialPredicate& predicate);
// Orders two trials by `field` as SQL's ORDER BY does (no value first), then
// by id, so every store lists in the same order.
bool TrialOrderLess(const TrialRecord& a, const TrialRecord& b, const TrialField& field,
                    bool descending);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_TRIAL_QUERY_H_
