#include "core/trial_fields.h"

#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_writer.h"

namespace deepsweep {
namespace {

TrialFieldValue Int(int64_t v) { return TrialFieldValue{v}; }
TrialFieldValue Real(double v) { return TrialFieldValue{v}; }
TrialFieldValue Text(const std::string& v) { return TrialFieldValue{v}; }

constexpr std::array<SpecField, 22> kConfigFields = {{
    {"dataset", [](const TrialSpec& s) { return Text(s.dataset.name); }},
    {"train_examples", [](const TrialSpec& s) { return Int(s.dataset.train_examples); }},
    {"validation_examples", [](const TrialSpec& s) { return Int(s.dataset.validation_examples); }},
    {"test_examples", [](const TrialSpec& s) { return Int(s.dataset.test_examples); }},
    {"preprocess", [](const TrialSpec& s) { return Text(s.dataset.preprocess); }},
    {"activation", [](const TrialSpec& s) { return Text(s.activation); }},
    {"init", [](const TrialSpec& s) { return Text(s.init); }},
    {"init_gain", [](const TrialSpec& s) { return Real(s.init_gain); }},
    {"depth", [](const TrialSpec& s) { return Int(s.depth); }},
    {"width", [](const TrialSpec& s) { return Int(s.width); }},
    {"loss", [](const TrialSpec& s) { return Text(s.loss); }},
    {"learning_rate", [](const TrialSpec& s) { return Real(s.learning_rate); }},
    {"momentum", [](const TrialSpec& s) { return Real(s.momentum); }},
    {"lr_decay", [](const TrialSpec& s) { return Real(s.lr_decay); }},
    {"batch_size", [](const TrialSpec& s) { return Int(s.batch_size); }},
    {"updates", [](const TrialSpec& s) { return Int(s.updates); }},
    {"checkpoint_every", [](const TrialSpec& s) { return Int(s.checkpoint_every); }},
    {"probe_examples", [](const TrialSpec& s) { return Int(s.probe_examples); }},
    {"histogram_bins", [](const TrialSpec& s) { return Int(s.histogram_bins); }},
    {"jacobian_examples", [](const TrialSpec& s) { return Int(s.jacobian_examples); }},
    {"stuck_after_updates", [](const TrialSpec& s) { return Int(s.stuck_after_updates); }},
    {"stuck_error", [](const TrialSpec& s) { return Real(s.stuck_error); }},
}};

}  // namespace

absl::Span<const SpecField> ConfigFields() { return kConfigFields; }

absl::StatusOr<const SpecField*> FindConfigField(std::string_view name) {
  for (const SpecField& field : kConfigFields) {
    if (field.name == name) return &field;
  }
  std::vector<std::string> names;
  for (const SpecField& field : kConfigFields) names.emplace_back(field.name);
  return absl::InvalidArgumentError(absl::StrCat("unknown configuration field '", std::string(name),
                                                 "' (known: ", absl::StrJoin(names, ", "), ")"));
}

std::vector<const SpecField*> VaryingConfigFields(absl::Span<const TrialSpec> specs) {
  std::vector<const SpecField*> varying;
  if (specs.empty()) return varying;
  for (const SpecField& field : kConfigFields) {
    const TrialFieldValue first = field.get(specs.front());
    const bool varies = std::any_of(specs.begin() + 1, specs.end(), [&](const TrialSpec& spec) {
      return field.get(spec) != first;
    });
    if (varies) varying.push_back(&field);
  }
  return varying;
}

std::string ConfigLabel(const TrialSpec& spec, absl::Span<const SpecField* const> fields) {
  if (fields.empty()) return "(all)";
  std::vector<std::string> parts;
  for (const SpecField* field : fields) {
    parts.push_back(absl::StrCat(std::string(field->name), "=", ValueText(field->get(spec))));
  }
  return absl::StrJoin(parts, " ");
}

std::string ConfigDescription(const TrialSpec& spec) {
  return absl::StrCat(spec.activation, " ", spec.init, ", depth ", spec.depth, ", lr ",
                      FormatShortest(spec.learning_rate));
}

std::string TrialLabel(TrialId id, const TrialSpec& spec) {
  return absl::StrCat("#", id, " ", ConfigDescription(spec), ", seed ", spec.seed_index);
}

std::string ValueText(const TrialFieldValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&value)) return FormatShortest(*d);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return "";
}

}  // namespace deepsweep
