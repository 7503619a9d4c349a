// The fields of a TrialSpec as the CLI shows them: names, typed values and
// configuration labels such as "activation=tanh init=normalized depth=5".
//
// A configuration is everything a trial trains with except its seed: trials
// that differ only in seed / seed_index are repeats of one configuration.
// Listings show only the fields that vary across the trials at hand, so a
// sweep over activation x init reads "activation=tanh init=standard", not
// every default.
//
// Thread-safety: immutable tables and pure functions.
#ifndef DEEPSWEEP_CORE_TRIAL_FIELDS_H_
#define DEEPSWEEP_CORE_TRIAL_FIELDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/trial.h"
#include "core/trial_query.h"

namespace deepsweep {

struct SpecField {
  std::string_view name;  // as in sweep specs and filters, e.g. "learning_rate"
  TrialFieldValue (*get)(const TrialSpec& spec);
};

// Every configuration field (dataset first, then model, then training), in a
// fixed order; seed and seed_index are not among them.
absl::Span<const SpecField> ConfigFields();

// The configuration field named `name`; INVALID_ARGUMENT listing the known
// names otherwise.
absl::StatusOr<const SpecField*> FindConfigField(std::string_view name);

// The configuration fields whose value differs between some of `specs`.
std::vector<const SpecField*> VaryingConfigFields(absl::Span<const TrialSpec> specs);

// "name=value" for each field, space-separated; "(all)" for no fields.
std::string ConfigLabel(const TrialSpec& spec, absl::Span<const SpecField* const> fields);

// A configuration in words: "tanh normalized, depth 5, lr 0.01".
std::string ConfigDescription(const TrialSpec& spec);

// A short name for one trial in listings:
//   "#12 tanh normalized, depth 5, lr 0.01, seed 0"
std::string TrialLabel(TrialId id, const TrialSpec& spec);

// A value as text: integers as is, reals in shortest form, text as is.
std::string ValueText(const TrialFieldValue& value);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_TRIAL_FIELDS_H_
