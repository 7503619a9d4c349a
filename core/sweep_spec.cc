#include "core/sweep_spec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <span>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/dataset_paths.h"
#include "common/status_macros.h"
#include "core/sobol.h"
#include "core/splitmix64.h"
#include "yaml-cpp/yaml.h"

namespace deepsweep {
namespace {

constexpr std::array<const char*, 9> kActivations = {
    "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "elu", "selu", "gelu", "identity"};
constexpr std::array<const char*, 8> kInits = {"standard",      "normalized",   "glorot_normal",
                                               "lecun_uniform", "lecun_normal", "he_uniform",
                                               "he_normal",     "orthogonal"};
constexpr std::array<const char*, 4> kDatasets = {"shapeset", "fashion-mnist", "mnist", "cifar10"};
constexpr std::array<const char*, 2> kLosses = {"nll", "quadratic"};
constexpr std::array<const char*, 3> kPreprocessings = {"pm1", "unit", "standardize"};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kIntMax = std::numeric_limits<int>::max();
// Integers above 2^53 would not survive the trip through a double bound.
constexpr double kMaxExactInteger = 9007199254740992.0;

enum class AxisKind { kInteger, kReal, kName };

// The values an axis accepts: numbers in [min, max] (max excluded when
// max_open), or one of `names`.
struct Axis {
  const char* name;
  AxisKind kind;
  double min = 0;
  double max = kInf;
  bool max_open = false;
  std::span<const char* const> names = {};
  // Where SweepLimits caps the axis; nullptr for none.
  int SweepLimits::*limit = nullptr;
  void (*set)(TrialSpec&, const AxisValue&) = nullptr;
  AxisValue (*get)(const TrialSpec&) = nullptr;
};

int64_t AsInt(const AxisValue& v) { return std::get<int64_t>(v); }
double AsReal(const AxisValue& v) { return std::get<double>(v); }
const std::string& AsName(const AxisValue& v) { return std::get<std::string>(v); }

// Far beyond any useful value (SGD diverges above ~10 on these networks),
// yet small enough that a typo such as 1e308 is caught here, not as NaN.
constexpr double kMaxLearningRate = 1000;
constexpr double kMaxGain = 1000;

// Every TrialSpec field a sweep may vary. Positive reals exclude 0 through
// the smallest positive double as their minimum.
const std::array<Axis, 22> kAxes = {{
    {"dataset", AxisKind::kName, 0, kInf, false, kDatasets, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.dataset.name = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.dataset.name; }},
    {"train_examples",
     AxisKind::kInteger,
     0,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.dataset.train_examples = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.dataset.train_examples; }},
    {"validation_examples",
     AxisKind::kInteger,
     0,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.dataset.validation_examples = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.dataset.validation_examples; }},
    {"test_examples",
     AxisKind::kInteger,
     0,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.dataset.test_examples = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.dataset.test_examples; }},
    {"preprocess", AxisKind::kName, 0, kInf, false, kPreprocessings, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.dataset.preprocess = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.dataset.preprocess; }},
    {"activation", AxisKind::kName, 0, kInf, false, kActivations, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.activation = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.activation; }},
    {"init", AxisKind::kName, 0, kInf, false, kInits, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.init = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.init; }},
    {"init_gain",
     AxisKind::kReal,
     std::numeric_limits<double>::denorm_min(),
     kMaxGain,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.init_gain = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.init_gain; }},
    {"depth",
     AxisKind::kInteger,
     1,
     kIntMax,
     false,
     {},
     &SweepLimits::max_depth,
     [](TrialSpec& s, const AxisValue& v) { s.depth = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.depth}; }},
    {"width",
     AxisKind::kInteger,
     1,
     kIntMax,
     false,
     {},
     &SweepLimits::max_width,
     [](TrialSpec& s, const AxisValue& v) { s.width = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.width}; }},
    {"loss", AxisKind::kName, 0, kInf, false, kLosses, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.loss = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.loss; }},
    {"learning_rate",
     AxisKind::kReal,
     std::numeric_limits<double>::denorm_min(),
     kMaxLearningRate,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.learning_rate = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.learning_rate; }},
    {"momentum",
     AxisKind::kReal,
     0,
     1,
     true,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.momentum = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.momentum; }},
    {"lr_decay",
     AxisKind::kReal,
     0,
     kInf,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.lr_decay = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.lr_decay; }},
    {"batch_size",
     AxisKind::kInteger,
     1,
     kIntMax,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.batch_size = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.batch_size}; }},
    {"updates",
     AxisKind::kInteger,
     1,
     kMaxExactInteger,
     false,
     {},
     &SweepLimits::max_updates,
     [](TrialSpec& s, const AxisValue& v) { s.updates = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.updates; }},
    {"checkpoint_every",
     AxisKind::kInteger,
     1,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.checkpoint_every = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.checkpoint_every; }},
    {"probe_examples",
     AxisKind::kInteger,
     0,
     kIntMax,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.probe_examples = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.probe_examples}; }},
    {"histogram_bins",
     AxisKind::kInteger,
     1,
     kIntMax,
     false,
     {},
     &SweepLimits::max_histogram_bins,
     [](TrialSpec& s, const AxisValue& v) { s.histogram_bins = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.histogram_bins}; }},
    {"jacobian_examples",
     AxisKind::kInteger,
     0,
     kIntMax,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.jacobian_examples = static_cast<int>(AsInt(v)); },
     [](const TrialSpec& s) -> AxisValue { return int64_t{s.jacobian_examples}; }},
    {"stuck_after_updates",
     AxisKind::kInteger,
     0,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.stuck_after_updates = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.stuck_after_updates; }},
    {"stuck_error",
     AxisKind::kReal,
     std::numeric_limits<double>::denorm_min(),
     1,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.stuck_error = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.stuck_error; }},
}};

constexpr std::array<const char*, 2> kKeepWeights = {"final", "none"};

// Training settings that are not axes: they never change a trajectory, so
// they are no part of a configuration and a sweep sets them once, in its
// training section, for every trial.
const std::array<Axis, 3> kSettings = {{
    {"snapshot_every",
     AxisKind::kInteger,
     0,
     kMaxExactInteger,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.snapshot_every = AsInt(v); },
     [](const TrialSpec& s) -> AxisValue { return s.snapshot_every; }},
    {"snapshot_seconds",
     AxisKind::kReal,
     0,
     kInf,
     false,
     {},
     nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.snapshot_seconds = AsReal(v); },
     [](const TrialSpec& s) -> AxisValue { return s.snapshot_seconds; }},
    {"keep_weights", AxisKind::kName, 0, kInf, false, kKeepWeights, nullptr,
     [](TrialSpec& s, const AxisValue& v) { s.keep_weights = AsName(v); },
     [](const TrialSpec& s) -> AxisValue { return s.keep_weights; }},
}};

const Axis* FindAxis(std::string_view name) {
  for (const Axis& a : kAxes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// An axis or a setting (section keys only).
const Axis* FindAxisOrSetting(std::string_view name) {
  if (const Axis* axis = FindAxis(name)) return axis;
  for (const Axis& a : kSettings) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string AxisNames() {
  std::vector<const char*> names;
  for (const Axis& a : kAxes) names.push_back(a.name);
  return absl::StrJoin(names, ", ");
}

// The keys of the base sections, mapped to axes (the dataset's "name" is the
// "dataset" axis). dataset.path and model.output are handled apart.
struct SectionKey {
  const char* key;
  const char* axis;  // "" for keys that are not axes
};
constexpr std::array<SectionKey, 6> kDatasetKeys = {{{"name", "dataset"},
                                                     {"path", ""},
                                                     {"train_examples", "train_examples"},
                                                     {"validation_examples", "validation_examples"},
                                                     {"test_examples", "test_examples"},
                                                     {"preprocess", "preprocess"}}};
constexpr std::array<SectionKey, 7> kModelKeys = {{{"activation", "activation"},
                                                   {"init", "init"},
                                                   {"init_gain", "init_gain"},
                                                   {"depth", "depth"},
                                                   {"width", "width"},
                                                   {"output", ""},
                                                   {"loss", "loss"}}};
constexpr std::array<SectionKey, 14> kTrainingKeys = {
    {{"learning_rate", "learning_rate"},
     {"momentum", "momentum"},
     {"lr_decay", "lr_decay"},
     {"batch_size", "batch_size"},
     {"updates", "updates"},
     {"checkpoint_every", "checkpoint_every"},
     {"probe_examples", "probe_examples"},
     {"histogram_bins", "histogram_bins"},
     {"jacobian_examples", "jacobian_examples"},
     {"stuck_after_updates", "stuck_after_updates"},
     {"stuck_error", "stuck_error"},
     {"snapshot_every", "snapshot_every"},
     {"snapshot_seconds", "snapshot_seconds"},
     {"keep_weights", "keep_weights"}}};
constexpr std::array<const char*, 13> kTopLevelKeys = {
    "name",    "description", "seed",
    "dataset", "model",       "training",
    "grid",    "random",      "random_crossed_with_grid",
    "exclude", "seeds",       "limits",
    "schedule"};

// Where a node sits, for messages: `grid.depth[2] (line 9)`.
std::string Where(const std::string& path, const YAML::Node& node) {
  const int line = node.Mark().line;
  if (line < 0) return path;
  return absl::StrCat(path, " (line ", line + 1, ")");
}

absl::Status Invalid(const std::string& path, const YAML::Node& node, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(Where(path, node), ": ", what));
}

// How a node reads in a message: the scalar quoted, or what kind it is.
std::string Describe(const YAML::Node& node) {
  if (node.IsScalar()) return absl::StrCat("\"", node.Scalar(), "\"");
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

const char* KindNoun(AxisKind kind) {
  switch (kind) {
    case AxisKind::kInteger:
      return "an integer";
    case AxisKind::kReal:
      return "a number";
    case AxisKind::kName:
      return "a name";
  }
  return "a value";
}

std::string FormatNumber(double v) { return absl::StrFormat("%.17g", v); }

// Checks a number against the axis's range (INVALID_ARGUMENT) and then
// against the coordinator's limit (RESOURCE_EXHAUSTED).
absl::Status CheckRange(const Axis& axis, double v, const SweepLimits& limits,
                        const std::string& path, const YAML::Node& node) {
  const bool too_low = v < axis.min;
  const bool too_high = axis.max_open ? v >= axis.max : v > axis.max;
  if (too_low || too_high) {
    std::string range;
    if (axis.max == kInf && axis.min == std::numeric_limits<double>::denorm_min()) {
      range = "positive";
    } else if (axis.min == std::numeric_limits<double>::denorm_min()) {
      range = absl::StrCat("in (0, ", FormatNumber(axis.max), "]");
    } else if (axis.max == kInf) {
      range = absl::StrCat("at least ", FormatNumber(axis.min));
    } else {
      range = absl::StrCat("in [", FormatNumber(axis.min), ", ", FormatNumber(axis.max),
                           axis.max_open ? ")" : "]");
    }
    return Invalid(path, node,
                   absl::StrCat(axis.name, " must be ", range, ", got ", FormatNumber(v)));
  }
  if (axis.limit != nullptr && v > limits.*axis.limit) {
    return absl::ResourceExhaustedError(absl::StrCat(Where(path, node), ": ", axis.name, " ",
                                                     FormatNumber(v), " is above the limit of ",
                                                     limits.*axis.limit, " (max_", axis.name, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AxisValue> ParseAxisValue(const Axis& axis, const YAML::Node& node,
                                         const SweepLimits& limits, const std::string& path) {
  if (!node.IsScalar()) {
    return Invalid(path, node,
                   absl::StrCat("expected ", KindNoun(axis.kind), ", got ", Describe(node)));
  }
  const std::string& text = node.Scalar();
  switch (axis.kind) {
    case AxisKind::kInteger: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) {
        return Invalid(path, node, absl::StrCat("expected an integer, got ", Describe(node)));
      }
      RETURN_IF_ERROR(CheckRange(axis, static_cast<double>(v), limits, path, node));
      return v;
    }
    case AxisKind::kReal: {
      double v = 0;
      if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
        return Invalid(path, node, absl::StrCat("expected a number, got ", Describe(node)));
      }
      RETURN_IF_ERROR(CheckRange(axis, v, limits, path, node));
      return v;
    }
    case AxisKind::kName:
      for (const char* n : axis.names) {
        if (n == text) return text;
      }
      return Invalid(path, node,
                     absl::StrCat("unknown ", axis.name, " ", Describe(node), " (expected one of ",
                                  absl::StrJoin(axis.names, ", "), ")"));
  }
  return absl::InternalError("unreachable axis kind");
}

// Iterates a map's entries in document order, rejecting non-string and
// repeated keys.
template <typename Fn>
absl::Status ForEachEntry(const YAML::Node& map, const std::string& path, Fn&& fn) {
  if (!map.IsMap()) return Invalid(path, map, absl::StrCat("expected a map, got ", Describe(map)));
  absl::flat_hash_set<std::string> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) return Invalid(path, key, "keys must be names");
    const std::string child = path.empty() ? key.Scalar() : absl::StrCat(path, ".", key.Scalar());
    if (!seen.insert(key.Scalar()).second) return Invalid(child, key, "appears twice");
    RETURN_IF_ERROR(fn(key.Scalar(), entry.second, child, key));
  }
  return absl::OkStatus();
}

template <size_t N>
absl::Status UnknownKey(const std::string& path, const YAML::Node& key,
                        const std::array<SectionKey, N>& keys) {
  std::vector<const char*> names;
  for (const SectionKey& k : keys) names.push_back(k.key);
  return Invalid(path, key,
                 absl::StrCat("unknown field (expected one of ", absl::StrJoin(names, ", "), ")"));
}

template <size_t N>
absl::Status ParseSection(const YAML::Node& section, const std::string& name,
                          const std::array<SectionKey, N>& keys, const SweepLimits& limits,
                          TrialSpec& base) {
  return ForEachEntry(
      section, name,
      [&](const std::string& key, const YAML::Node& value, const std::string& path,
          const YAML::Node& key_node) -> absl::Status {
        const SectionKey* entry = nullptr;
        for (const SectionKey& k : keys) {
          if (k.key == key) entry = &k;
        }
        if (entry == nullptr) return UnknownKey(path, key_node, keys);
        if (key == "path") {
          if (!value.IsScalar()) {
            return Invalid(path, value,
                           absl::StrCat("expected a directory, got ", Describe(value)));
          }
          base.dataset.path = value.Scalar();
          return absl::OkStatus();
        }
        if (key == "output") {
          if (!value.IsScalar() || value.Scalar() != "softmax") {
            return Invalid(path, value,
                           absl::StrCat("unknown output ", Describe(value), " (expected softmax)"));
          }
          return absl::OkStatus();
        }
        const Axis& axis = *FindAxisOrSetting(entry->axis);
        ASSIGN_OR_RETURN(AxisValue v, ParseAxisValue(axis, value, limits, path));
        axis.set(base, v);
        return absl::OkStatus();
      });
}

absl::StatusOr<int64_t> ParseCount(const YAML::Node& node, const std::string& path, int64_t min,
                                   int64_t max) {
  int64_t v = 0;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &v)) {
    return Invalid(path, node, absl::StrCat("expected an integer, got ", Describe(node)));
  }
  if (v < min || v > max) {
    return Invalid(path, node, absl::StrCat("must be in [", min, ", ", max, "], got ", v));
  }
  return v;
}

absl::StatusOr<const Axis*> RequireAxis(const std::string& key, const std::string& path,
                                        const YAML::Node& key_node) {
  const Axis* axis = FindAxis(key);
  if (axis == nullptr) {
    return Invalid(path, key_node,
                   absl::StrCat("unknown axis (expected one of ", AxisNames(), ")"));
  }
  return axis;
}

absl::StatusOr<std::vector<AxisValue>> ParseValueList(const Axis& axis, const YAML::Node& list,
                                                      const SweepLimits& limits,
                                                      const std::string& path) {
  if (!list.IsSequence() || list.size() == 0) {
    return Invalid(path, list,
                   absl::StrCat("expected a non-empty list of values, got ",
                                list.IsSequence() ? "an empty list" : Describe(list)));
  }
  std::vector<AxisValue> values;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string item = absl::StrCat(path, "[", i, "]");
    ASSIGN_OR_RETURN(AxisValue v, ParseAxisValue(axis, list[i], limits, item));
    for (const AxisValue& earlier : values) {
      if (earlier == v) return Invalid(item, list[i], "repeats an earlier value");
    }
    values.push_back(std::move(v));
  }
  return values;
}

absl::Status ParseGrid(const YAML::Node& grid, const SweepLimits& limits, SweepSpec& spec) {
  return ForEachEntry(grid, "grid",
                      [&](const std::string& key, const YAML::Node& value, const std::string& path,
                          const YAML::Node& key_node) -> absl::Status {
                        ASSIGN_OR_RETURN(const Axis* axis, RequireAxis(key, path, key_node));
                        ASSIGN_OR_RETURN(std::vector<AxisValue> values,
                                         ParseValueList(*axis, value, limits, path));
                        spec.grid.push_back({key, std::move(values), key_node.Mark().line + 1});
                        return absl::OkStatus();
                      });
}

absl::StatusOr<SampledAxis> ParseSampledAxis(const Axis& axis, const YAML::Node& node,
                                             const SweepLimits& limits, const std::string& path) {
  if (!node.IsMap() || node.size() != 1) {
    return Invalid(path, node,
                   "expected one of {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, "
                   "{choice: [values]}");
  }
  SampledAxis sampled;
  sampled.field = std::string(axis.name);
  sampled.line = node.Mark().line + 1;
  const auto entry = *node.begin();
  const std::string kind = entry.first.Scalar();
  const std::string child = absl::StrCat(path, ".", kind);
  if (kind == "choice") {
    sampled.distribution = SampledAxis::Distribution::kChoice;
    ASSIGN_OR_RETURN(sampled.choices, ParseValueList(axis, entry.second, limits, child));
    return sampled;
  }
  if (kind != "uniform" && kind != "log_uniform") {
    return Invalid(child, entry.first,
                   "unknown distribution (expected uniform, log_uniform or choice)");
  }
  sampled.distribution = kind == "uniform" ? SampledAxis::Distribution::kUniform
                                           : SampledAxis::Distribution::kLogUniform;
  if (axis.kind == AxisKind::kName) {
    return Invalid(child, entry.first, absl::StrCat(axis.name, " is not numeric; use choice"));
  }
  const YAML::Node& bounds = entry.second;
  if (!bounds.IsSequence() || bounds.size() != 2) {
    return Invalid(child, bounds, absl::StrCat("expected [lo, hi], got ", Describe(bounds)));
  }
  std::array<double, 2> b{};
  for (size_t i = 0; i < 2; ++i) {
    ASSIGN_OR_RETURN(AxisValue v,
                     ParseAxisValue(axis, bounds[i], limits, absl::StrCat(child, "[", i, "]")));
    b[i] = axis.kind == AxisKind::kInteger ? static_cast<double>(AsInt(v)) : AsReal(v);
  }
  if (b[0] > b[1]) return Invalid(child, bounds, "lo must not exceed hi");
  if (sampled.distribution == SampledAxis::Distribution::kLogUniform && b[0] <= 0) {
    return Invalid(child, bounds, "log_uniform needs lo > 0");
  }
  sampled.lo = b[0];
  sampled.hi = b[1];
  return sampled;
}

// `random` or `random_crossed_with_grid`: samples, method and sampled axes.
absl::Status ParseRandom(const YAML::Node& random, const std::string& section,
                         const SweepLimits& limits, SweepSpec& spec) {
  std::optional<YAML::Node> samples_node;
  RETURN_IF_ERROR(ForEachEntry(
      random, section,
      [&](const std::string& key, const YAML::Node& value, const std::string& path,
          const YAML::Node& key_node) -> absl::Status {
        if (key == "samples") {
          ASSIGN_OR_RETURN(spec.samples, ParseCount(value, path, 0, limits.max_trials));
          samples_node = value;
          return absl::OkStatus();
        }
        if (key == "method") {
          if (value.IsScalar() && value.Scalar() == "random") {
            spec.method = SearchMethod::kRandom;
          } else if (value.IsScalar() && value.Scalar() == "sobol") {
            spec.method = SearchMethod::kSobol;
          } else {
            return Invalid(
                path, value,
                absl::StrCat("unknown method ", Describe(value), " (expected random or sobol)"));
          }
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(const Axis* axis, RequireAxis(key, path, key_node));
        for (const GridAxis& g : spec.grid) {
          if (g.field == key) {
            return Invalid(path, key_node,
                           absl::StrCat(key, " is already a grid axis (line ", g.line, ")"));
          }
        }
        ASSIGN_OR_RETURN(SampledAxis sampled, ParseSampledAxis(*axis, value, limits, path));
        spec.random.push_back(std::move(sampled));
        return absl::OkStatus();
      }));
  const std::string samples_path = absl::StrCat(section, ".samples");
  if (!spec.random.empty() && spec.samples == 0) {
    return Invalid(samples_path, samples_node.value_or(random),
                   "must be at least 1 when random axes are given");
  }
  if (spec.random.empty() && spec.samples > 0) {
    return Invalid(samples_path, *samples_node, "no axes to sample");
  }
  if (static_cast<int>(spec.random.size()) > SobolSequence::kMaxDimensions) {
    return Invalid(section, random,
                   absl::StrCat("at most ", SobolSequence::kMaxDimensions, " sampled axes"));
  }
  spec.crossed_with_grid = section == "random_crossed_with_grid";
  if (!spec.crossed_with_grid && !spec.random.empty() && !spec.grid.empty()) {
    return Invalid(section, random,
                   absl::StrCat("random draws whole configurations and cannot be combined with "
                                "grid (line ",
                                spec.grid.front().line,
                                "): to give every grid configuration the same drawn points, "
                                "rename random to random_crossed_with_grid; to draw the grid's "
                                "axes too, move them into random as {choice: [values]}"));
  }
  return absl::OkStatus();
}

absl::Status ParseExclude(const YAML::Node& exclude, SweepSpec& spec) {
  // Excluding a value beyond the coordinator's limits is harmless.
  const SweepLimits limits{.max_trials = std::numeric_limits<int64_t>::max(),
                           .max_depth = std::numeric_limits<int>::max(),
                           .max_width = std::numeric_limits<int>::max()};
  if (!exclude.IsSequence()) {
    return Invalid("exclude", exclude,
                   absl::StrCat("expected a list of rules, got ", Describe(exclude)));
  }
  for (size_t i = 0; i < exclude.size(); ++i) {
    const YAML::Node& rule_node = exclude[i];
    const std::string path = absl::StrCat("exclude[", i, "]");
    ExcludeRule rule;
    rule.line = rule_node.Mark().line + 1;
    if (rule_node.IsMap() && rule_node.size() == 0) return Invalid(path, rule_node, "empty rule");
    RETURN_IF_ERROR(
        ForEachEntry(rule_node, path,
                     [&](const std::string& key, const YAML::Node& value, const std::string& child,
                         const YAML::Node& key_node) -> absl::Status {
                       ASSIGN_OR_RETURN(const Axis* axis, RequireAxis(key, child, key_node));
                       std::vector<AxisValue> values;
                       if (value.IsSequence()) {
                         ASSIGN_OR_RETURN(values, ParseValueList(*axis, value, limits, child));
                       } else {
                         ASSIGN_OR_RETURN(AxisValue v, ParseAxisValue(*axis, value, limits, child));
                         values.push_back(std::move(v));
                       }
                       rule.match.emplace_back(key, std::move(values));
                       return absl::OkStatus();
                     }));
    spec.exclude.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

// The `schedule` section. Settings of another rule than the one given are
// refused, so a typo in `rule` cannot silently drop them.
absl::Status ParseSchedule(const YAML::Node& node, ScheduleSpec& schedule) {
  using Rule = ScheduleSpec::Rule;
  if (!node.IsMap()) {
    return Invalid("schedule", node, absl::StrCat("expected a map, got ", Describe(node)));
  }
  const YAML::Node rule = node["rule"];
  if (!rule.IsDefined() || !rule.IsScalar()) {
    return Invalid("schedule.rule", rule.IsDefined() ? rule : node,
                   "required: asha, median or stuck");
  }
  if (rule.Scalar() == "asha") {
    schedule.rule = Rule::kAsha;
  } else if (rule.Scalar() == "median") {
    schedule.rule = Rule::kMedian;
  } else if (rule.Scalar() == "stuck") {
    schedule.rule = Rule::kStuck;
  } else {
    return Invalid(
        "schedule.rule", rule,
        absl::StrCat("unknown rule ", Describe(rule), " (expected asha, median or stuck)"));
  }
  struct Setting {
    const char* key;
    Rule rule;  // kNone: any rule
  };
  constexpr std::array<Setting, 9> kSettings = {{{"rule", Rule::kNone},
                                                 {"metric", Rule::kNone},
                                                 {"group_by", Rule::kNone},
                                                 {"min_updates", Rule::kAsha},
                                                 {"eta", Rule::kAsha},
                                                 {"grace_updates", Rule::kMedian},
                                                 {"min_trials", Rule::kMedian},
                                                 {"after_updates", Rule::kStuck},
                                                 {"error", Rule::kStuck}}};
  const char* kRuleNames[] = {"", "asha", "median", "stuck"};
  bool has_min_updates = false, has_after_updates = false;
  RETURN_IF_ERROR(ForEachEntry(
      node, "schedule",
      [&](const std::string& key, const YAML::Node& value, const std::string& path,
          const YAML::Node& key_node) -> absl::Status {
        const Setting* setting = nullptr;
        for (const Setting& s : kSettings) {
          if (s.key == key) setting = &s;
        }
        if (setting == nullptr) {
          std::vector<const char*> names;
          for (const Setting& s : kSettings) names.push_back(s.key);
          return Invalid(
              path, key_node,
              absl::StrCat("unknown field (expected one of ", absl::StrJoin(names, ", "), ")"));
        }
        if (setting->rule != Rule::kNone && setting->rule != schedule.rule) {
          return Invalid(
              path, key_node,
              absl::StrCat(key, " is a setting of rule ",
                           kRuleNames[static_cast<int>(setting->rule)], ", not ", rule.Scalar()));
        }
        if (key == "metric") {
          if (value.IsScalar() && value.Scalar() == "validation_error") {
            schedule.metric = ScheduleSpec::Metric::kValidationError;
          } else if (value.IsScalar() && value.Scalar() == "validation_nll") {
            schedule.metric = ScheduleSpec::Metric::kValidationNll;
          } else {
            return Invalid(path, value,
                           absl::StrCat("unknown metric ", Describe(value),
                                        " (expected validation_error or validation_nll)"));
          }
        } else if (key == "group_by") {
          if (!value.IsSequence()) {
            return Invalid(path, value,
                           absl::StrCat("expected a list of axes, got ", Describe(value)));
          }
          for (size_t i = 0; i < value.size(); ++i) {
            const std::string item = absl::StrCat(path, "[", i, "]");
            if (!value[i].IsScalar()) {
              return Invalid(item, value[i],
                             absl::StrCat("expected an axis, got ", Describe(value[i])));
            }
            RETURN_IF_ERROR(RequireAxis(value[i].Scalar(), item, value[i]).status());
            for (const std::string& earlier : schedule.group_by) {
              if (earlier == value[i].Scalar()) {
                return Invalid(item, value[i], "repeats an earlier axis");
              }
            }
            schedule.group_by.push_back(value[i].Scalar());
          }
        } else if (key == "min_updates") {
          ASSIGN_OR_RETURN(schedule.min_updates,
                           ParseCount(value, path, 1, static_cast<int64_t>(kMaxExactInteger)));
          has_min_updates = true;
        } else if (key == "eta") {
          ASSIGN_OR_RETURN(schedule.eta, ParseCount(value, path, 2, 1000));
        } else if (key == "grace_updates") {
          ASSIGN_OR_RETURN(schedule.grace_updates,
                           ParseCount(value, path, 0, static_cast<int64_t>(kMaxExactInteger)));
        } else if (key == "min_trials") {
          ASSIGN_OR_RETURN(schedule.min_trials, ParseCount(value, path, 1, 1000000));
        } else if (key == "after_updates") {
          ASSIGN_OR_RETURN(schedule.after_updates,
                           ParseCount(value, path, 1, static_cast<int64_t>(kMaxExactInteger)));
          has_after_updates = true;
        } else if (key == "error") {
          double v = 0;
          if (!value.IsScalar() || !absl::SimpleAtod(value.Scalar(), &v) || !(v > 0) ||
              !std::isfinite(v)) {
            return Invalid(path, value,
                           absl::StrCat("expected a positive number, got ", Describe(value)));
          }
          schedule.error = v;
        }
        return absl::OkStatus();
      }));
  if (schedule.rule == Rule::kAsha && !has_min_updates) {
    return Invalid("schedule.min_updates", node, "required for rule asha (the first rung)");
  }
  if (schedule.rule == Rule::kStuck && !has_after_updates) {
    return Invalid("schedule.after_updates", node, "required for rule stuck");
  }
  return absl::OkStatus();
}

absl::Status ParseTopLevel(const YAML::Node& root, const SweepLimits& limits, SweepSpec& spec) {
  // Grid before random: random checks its axes against the grid's.
  for (const char* section :
       {"dataset", "model", "training", "grid", "random", "random_crossed_with_grid", "exclude"}) {
    const YAML::Node node = root[section];
    if (!node.IsDefined() || node.IsNull()) continue;
    const std::string s = section;
    if (s == "dataset") RETURN_IF_ERROR(ParseSection(node, s, kDatasetKeys, limits, spec.base));
    if (s == "model") RETURN_IF_ERROR(ParseSection(node, s, kModelKeys, limits, spec.base));
    if (s == "training") RETURN_IF_ERROR(ParseSection(node, s, kTrainingKeys, limits, spec.base));
    if (s == "grid") RETURN_IF_ERROR(ParseGrid(node, limits, spec));
    if (s == "random" || s == "random_crossed_with_grid") {
      if (root["random"].IsDefined() && root["random_crossed_with_grid"].IsDefined()) {
        return Invalid(s, node, "give either random or random_crossed_with_grid, not both");
      }
      RETURN_IF_ERROR(ParseRandom(node, s, limits, spec));
    }
    if (s == "exclude") RETURN_IF_ERROR(ParseExclude(node, spec));
  }
  if (const YAML::Node schedule = root["schedule"]; schedule.IsDefined() && !schedule.IsNull()) {
    RETURN_IF_ERROR(ParseSchedule(schedule, spec.schedule));
  }
  return ForEachEntry(
      root, "",
      [&](const std::string& key, const YAML::Node& value, const std::string& path,
          const YAML::Node& key_node) -> absl::Status {
        if (key == "name" || key == "description") {
          if (!value.IsScalar() || (key == "name" && value.Scalar().empty())) {
            return Invalid(path, value, absl::StrCat("expected text, got ", Describe(value)));
          }
          (key == "name" ? spec.name : spec.description) = value.Scalar();
        } else if (key == "seed") {
          if (!value.IsScalar() || !absl::SimpleAtoi(value.Scalar(), &spec.seed)) {
            return Invalid(path, value,
                           absl::StrCat("expected a non-negative integer, got ", Describe(value)));
          }
        } else if (key == "seeds") {
          ASSIGN_OR_RETURN(spec.seeds, ParseCount(value, path, 1, limits.max_trials));
        } else if (key == "limits") {
          return ForEachEntry(
              value, path,
              [&](const std::string& k, const YAML::Node& v, const std::string& child,
                  const YAML::Node& k_node) -> absl::Status {
                if (k != "max_attempts")
                  return Invalid(child, k_node, "unknown field (expected max_attempts)");
                ASSIGN_OR_RETURN(int64_t attempts, ParseCount(v, child, 1, 100));
                spec.max_attempts = static_cast<int>(attempts);
                return absl::OkStatus();
              });
        } else {
          bool known = false;
          for (const char* k : kTopLevelKeys) known = known || k == key;
          if (!known) {
            return Invalid(path, key_node,
                           absl::StrCat("unknown field (expected one of ",
                                        absl::StrJoin(kTopLevelKeys, ", "), ")"));
          }
        }
        return absl::OkStatus();
      });
}

// Saturating product, to size sweeps that may not fit in 64 bits.
uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) {
    return std::numeric_limits<uint64_t>::max();
  }
  return a * b;
}

double RoundToSignificant(double v) {
  double rounded = v;
  absl::SimpleAtod(absl::StrFormat("%.6g", v), &rounded);
  return rounded;
}

// The value of sampled axis `s` at the unit coordinate u in [0, 1):
//   choice: choices[floor(u n)];  uniform: lo + u (hi - lo), integers
//   lo + floor(u (hi - lo + 1));  log_uniform: exp(log lo + u (log hi - log lo)),
//   integers rounded to the nearest. Reals keep 6 significant digits.
AxisValue ValueAt(const Axis& axis, const SampledAxis& s, double u) {
  using D = SampledAxis::Distribution;
  if (s.distribution == D::kChoice) {
    const auto n = static_cast<double>(s.choices.size());
    return s.choices[std::min(static_cast<size_t>(u * n), s.choices.size() - 1)];
  }
  if (axis.kind == AxisKind::kInteger) {
    const auto lo = static_cast<int64_t>(s.lo);
    const auto hi = static_cast<int64_t>(s.hi);
    if (s.distribution == D::kUniform) {
      const double span = static_cast<double>(hi - lo) + 1;
      return std::min(lo + static_cast<int64_t>(u * span), hi);
    }
    const double x = std::exp(std::log(s.lo) + u * (std::log(s.hi) - std::log(s.lo)));
    return std::clamp(static_cast<int64_t>(std::llround(x)), lo, hi);
  }
  if (s.distribution == D::kUniform) return RoundToSignificant(s.lo + u * (s.hi - s.lo));
  return RoundToSignificant(std::exp(std::log(s.lo) + u * (std::log(s.hi) - std::log(s.lo))));
}

// A pseudo-random draw. Discrete draws (choices, uniform integers) take an
// unbiased integer (NextBelow) rather than ValueAt's floor(u n), so that
// specs written before ValueAt existed keep their trials.
AxisValue Draw(const Axis& axis, const SampledAxis& s, SplitMix64& rng) {
  using D = SampledAxis::Distribution;
  if (s.distribution == D::kChoice) return s.choices[rng.NextBelow(s.choices.size())];
  const double u = rng.NextUnit();
  if (axis.kind == AxisKind::kInteger && s.distribution == D::kUniform) {
    const auto lo = static_cast<int64_t>(s.lo);
    const auto hi = static_cast<int64_t>(s.hi);
    return lo + static_cast<int64_t>(rng.NextBelow(static_cast<uint64_t>(hi - lo) + 1));
  }
  return ValueAt(axis, s, u);
}

// The spec's sampled points: one value per sampled axis, spec.samples points.
std::vector<std::vector<AxisValue>> SamplePoints(const SweepSpec& spec) {
  std::vector<std::vector<AxisValue>> points(static_cast<size_t>(spec.samples));
  SplitMix64 rng(Mix64(spec.seed ^ 0x72616e646f6d5f31ULL));  // "random_1"
  if (spec.method == SearchMethod::kRandom) {
    for (auto& point : points) {
      for (const SampledAxis& s : spec.random) point.push_back(Draw(*FindAxis(s.field), s, rng));
    }
    return points;
  }
  if (spec.random.empty()) return points;
  // The digital shift: one random word per axis, from a stream of its own.
  SplitMix64 shifts(Mix64(spec.seed ^ 0x736f626f6c5f7368ULL));  // "sobol_sh"
  std::vector<uint32_t> shift;
  for (size_t j = 0; j < spec.random.size(); ++j) shift.push_back(shifts.Next() >> 32);
  SobolSequence sobol(static_cast<int>(spec.random.size()), shift);
  for (auto& point : points) {
    const std::vector<double> u = sobol.Next();
    for (size_t j = 0; j < spec.random.size(); ++j) {
      point.push_back(ValueAt(*FindAxis(spec.random[j].field), spec.random[j], u[j]));
    }
  }
  return points;
}

bool Excluded(const TrialSpec& config, const std::vector<ExcludeRule>& rules) {
  for (const ExcludeRule& rule : rules) {
    bool all = true;
    for (const auto& [field, values] : rule.match) {
      const AxisValue v = FindAxis(field)->get(config);
      bool any = false;
      for (const AxisValue& candidate : values) any = any || candidate == v;
      all = all && any;
    }
    if (all) return true;
  }
  return false;
}

// FNV-1a, 64 bits.
uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The dataset as its examples depend on it: every DatasetSpec field but path.
// "data:" keeps it apart from any configuration key.
std::string DataKey(const DatasetSpec& d) {
  return absl::StrFormat("data:dataset=%s;train=%d;validation=%d;test=%d;preprocess=%s", d.name,
                         d.train_examples, d.validation_examples, d.test_examples, d.preprocess);
}

// Every field that shapes a trial's training trajectory. The text is the
// configuration key as it was before the measurement fields existed, so the
// seeds of existing specs stay what they were.
std::string TrainingKey(const TrialSpec& c) {
  const DatasetSpec& d = c.dataset;
  return absl::StrFormat(
      "dataset=%s;train=%d;validation=%d;test=%d;preprocess=%s;activation=%s;init=%s;"
      "gain=%.17g;depth=%d;width=%d;loss=%s;lr=%.17g;momentum=%.17g;decay=%.17g;batch=%d;"
      "updates=%d;checkpoint=%d;probe=%d",
      d.name, d.train_examples, d.validation_examples, d.test_examples, d.preprocess, c.activation,
      c.init, c.init_gain, c.depth, c.width, c.loss, c.learning_rate, c.momentum, c.lr_decay,
      c.batch_size, c.updates, c.checkpoint_every, c.probe_examples);
}

// `text` with control characters, DEL and bytes above 0x7f as \xNN, for
// error messages that quote what the user sent (which may be binary).
std::string Escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", byte));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The spec must be UTF-8 text whose only control characters are line breaks
// and tabs: names and text from it reach terminals and logs.
absl::Status CheckPrintable(std::string_view yaml) {
  int line = 1;
  for (size_t i = 0; i < yaml.size();) {
    const auto byte = static_cast<unsigned char>(yaml[i]);
    if (byte == '\n') ++line;
    if ((byte < 0x20 && byte != '\n' && byte != '\r' && byte != '\t') || byte == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec line %d: control character \\x%02x is not allowed (a spec is text)", line, byte));
    }
    // UTF-8: a lead byte, then 0-3 continuation bytes 10xxxxxx.
    const int extra = byte < 0x80           ? 0
                      : (byte >> 5) == 0x6  ? 1
                      : (byte >> 4) == 0xe  ? 2
                      : (byte >> 3) == 0x1e ? 3
                                            : -1;
    bool valid = extra >= 0 && i + extra < yaml.size();
    for (int k = 1; valid && k <= extra; ++k) {
      valid = (static_cast<unsigned char>(yaml[i + k]) & 0xc0) == 0x80;
    }
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "spec line %d: byte \\x%02x is not UTF-8 text (is this a binary file?)", line, byte));
    }
    i += 1 + extra;
  }
  return absl::OkStatus();
}

// A field that is shown as text (name, description, dataset.path): no
// control characters, even written as YAML escapes ("\e[31m").
absl::Status CheckText(const std::string& field, const std::string& text, bool multiline) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || byte == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: control character \\x%02x is not allowed in \"%s\"", field, byte, Escaped(text)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SweepSpec> ParseSpecText(std::string_view yaml, const SweepLimits& limits) {
  RETURN_IF_ERROR(CheckPrintable(yaml));
  // yaml-cpp reports errors by throwing; nothing it throws leaves this function.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsDefined() || root.IsNull()) {
      return absl::InvalidArgumentError("the sweep spec is empty");
    }
    if (!root.IsMap()) {
      return Invalid("spec", root, absl::StrCat("expected a map of fields, got ", Describe(root)));
    }
    SweepSpec spec;
    RETURN_IF_ERROR(ParseTopLevel(root, limits, spec));
    if (spec.name.empty()) return absl::InvalidArgumentError("name: required");
    RETURN_IF_ERROR(CheckText("name", spec.name, /*multiline=*/false));
    RETURN_IF_ERROR(CheckText("description", spec.description, /*multiline=*/true));
    RETURN_IF_ERROR(CheckText("dataset.path", spec.base.dataset.path, /*multiline=*/false));
    return spec;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML (line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, "): ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<SweepSpec> ParseSweepSpec(std::string_view yaml, const SweepLimits& limits) {
  absl::StatusOr<SweepSpec> spec = ParseSpecText(yaml, limits);
  if (spec.ok()) return spec;
  // Messages quote the spec; whatever it holds, they stay one printable line.
  return absl::Status(spec.status().code(), Escaped(std::string(spec.status().message())));
}

absl::StatusOr<std::vector<TrialSpec>> ExpandSweep(const SweepSpec& spec,
                                                   const SweepLimits& limits) {
  const uint64_t max_trials = static_cast<uint64_t>(std::max<int64_t>(limits.max_trials, 0));
  uint64_t combinations = std::max<int64_t>(spec.samples, 1);
  for (const GridAxis& axis : spec.grid)
    combinations = SaturatingMul(combinations, axis.values.size());
  // Exclusions may shrink the sweep, but looking at more than this many
  // combinations to find out is itself too much work.
  if (SaturatingMul(combinations, std::max<int64_t>(spec.seeds, 1)) >
      SaturatingMul(max_trials, 16)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the grid and random samples give ", combinations, " configurations x ", spec.seeds,
        " seeds before exclusions, far above the limit of ", max_trials, " trials (max_trials)"));
  }

  // The sampled points, each crossed with every grid point (there is one
  // grid point, the base, unless the spec says random_crossed_with_grid).
  const std::vector<std::vector<AxisValue>> points = SamplePoints(spec);

  std::vector<TrialSpec> configs;
  absl::flat_hash_set<std::string> seen;
  std::vector<size_t> odometer(spec.grid.size(), 0);
  while (true) {
    TrialSpec config = spec.base;
    for (size_t a = 0; a < spec.grid.size(); ++a) {
      FindAxis(spec.grid[a].field)->set(config, spec.grid[a].values[odometer[a]]);
    }
    for (size_t p = 0; p < std::max<size_t>(points.size(), 1); ++p) {
      TrialSpec c = config;
      for (size_t r = 0; r < spec.random.size(); ++r) {
        FindAxis(spec.random[r].field)->set(c, points[p][r]);
      }
      if (Excluded(c, spec.exclude) || !seen.insert(ConfigKey(c)).second) continue;
      configs.push_back(std::move(c));
    }
    // Advance the odometer: the last axis turns fastest.
    size_t a = spec.grid.size();
    while (a > 0 && ++odometer[a - 1] == spec.grid[a - 1].values.size()) odometer[--a] = 0;
    if (a == 0) break;
  }

  if (configs.empty())
    return absl::InvalidArgumentError("exclude: every configuration is excluded");
  // Checked here rather than when a worker first loads it, trials later.
  for (const TrialSpec& c : configs) {
    const DatasetSpec& d = c.dataset;
    if (d.name != "shapeset" && d.path.empty() && DefaultDatasetPath(d.name).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dataset.path: ", d.name,
                       " has no default location: give dataset.path, the directory holding its "
                       "files on every worker (e.g. dataset: {name: ",
                       d.name, ", path: /data/", d.name, "})"));
    }
  }
  const uint64_t trials = SaturatingMul(configs.size(), spec.seeds);
  if (trials > max_trials) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the sweep expands to ", configs.size(), " configurations x ", spec.seeds,
        " seeds = ", trials, " trials, above the limit of ", max_trials, " (max_trials)"));
  }
  std::vector<TrialSpec> out;
  out.reserve(trials);
  for (int64_t s = 0; s < spec.seeds; ++s) {
    for (const TrialSpec& config : configs) {
      TrialSpec t = config;
      t.seed_index = static_cast<int>(s);
      t.seed = TrialSeed(spec.seed, config, t.seed_index);
      t.data_seed = DataSeed(spec.seed, config.dataset, t.seed_index);
      out.push_back(std::move(t));
    }
  }
  return out;
}

std::string ConfigKey(const TrialSpec& c) {
  return absl::StrFormat("%s;bins=%d;jacobian=%d;stuck_after=%d;stuck_error=%.17g", TrainingKey(c),
                         c.histogram_bins, c.jacobian_examples, c.stuck_after_updates,
                         c.stuck_error);
}

std::string GroupKey(const TrialSpec& config, const std::vector<std::string>& axes) {
  std::vector<std::string> parts;
  for (const std::string& name : axes) {
    const AxisValue v = FindAxis(name)->get(config);
    std::string text;
    if (const auto* i = std::get_if<int64_t>(&v)) text = absl::StrCat(*i);
    if (const auto* d = std::get_if<double>(&v)) text = absl::StrFormat("%.15g", *d);
    if (const auto* n = std::get_if<std::string>(&v)) text = *n;
    parts.push_back(absl::StrCat(name, "=", text));
  }
  return absl::StrJoin(parts, ",");
}

std::string DescribeSchedule(const ScheduleSpec& s) {
  using Rule = ScheduleSpec::Rule;
  if (s.rule == Rule::kNone) return "none (every trial trains to its last update)";
  const char* metric =
      s.metric == ScheduleSpec::Metric::kValidationNll ? "validation_nll" : "validation_error";
  const std::string groups =
      s.group_by.empty() ? "across the whole sweep"
                         : absl::StrCat("within groups of equal ", absl::StrJoin(s.group_by, ", "));
  switch (s.rule) {
    case Rule::kAsha:
      return absl::StrFormat(
          "asha on %s, %s: rungs at %d x %d^k updates (below each trial's updates); at each "
          "rung a trial continues only if in the top 1/%d of its group's values there so "
          "far, else it ends pruned",
          metric, groups, s.min_updates, s.eta, s.eta);
    case Rule::kMedian:
      return absl::StrFormat(
          "median stopping on %s, %s: from update %d, a trial whose best so far is above the "
          "median of the running averages of at least %d other trials at the same step ends "
          "pruned",
          metric, groups, s.grace_updates, s.min_trials);
    case Rule::kStuck:
      return absl::StrFormat(
          "stuck rule on %s: a trial with %s >= %g at a checkpoint at or "
          "after update %d ends diverged",
          metric, metric, s.error, s.after_updates);
    case Rule::kNone:
      break;
  }
  return "none";
}

uint64_t TrialSeed(uint64_t sweep_seed, const TrialSpec& config, int seed_index) {
  const uint64_t config_seed = Mix64(sweep_seed ^ Mix64(Fnv1a(TrainingKey(config))));
  return Mix64(config_seed + static_cast<uint64_t>(seed_index)) >> 1;
}

uint64_t DataSeed(uint64_t sweep_seed, const DatasetSpec& dataset, int seed_index) {
  const uint64_t data_key = Mix64(sweep_seed ^ Mix64(Fnv1a(DataKey(dataset))));
  return Mix64(data_key + static_cast<uint64_t>(seed_index)) >> 1;
}

}  // namespace deepsweep
