#include "core/checkpoint_compare.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace deepsweep {
namespace {

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The shortest text that reads back as `value`: values one bit apart print
// differently.
std::string Exact(double value) {
  char buffer[32];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string Differ(std::string_view what, double a, double b) {
  return absl::StrCat(std::string(what), ": ", Exact(a), " vs ", Exact(b));
}

std::string StatDifference(const LayerStat& a, const LayerStat& b) {
  if (a.layer != b.layer || a.quantity != b.quantity) {
    return absl::StrCat("layer/quantity ", a.layer, "/", std::string(LayerQuantityName(a.quantity)),
                        " vs ", b.layer, "/", std::string(LayerQuantityName(b.quantity)));
  }
  const std::pair<const char*, std::pair<double, double>> fields[] = {
      {"mean", {a.mean, b.mean}},
      {"std", {a.std, b.std}},
      {"p02", {a.p02, b.p02}},
      {"p50", {a.p50, b.p50}},
      {"p98", {a.p98, b.p98}},
      {"saturated_fraction", {a.saturated_fraction, b.saturated_fraction}},
      {"jacobian_sv_mean", {a.jacobian_sv_mean, b.jacobian_sv_mean}},
      {"hist_lo", {a.hist_lo, b.hist_lo}},
      {"hist_hi", {a.hist_hi, b.hist_hi}},
  };
  const std::string where =
      absl::StrCat("layer ", a.layer, " ", std::string(LayerQuantityName(a.quantity)), " ");
  for (const auto& [name, values] : fields) {
    if (!SameBits(values.first, values.second)) {
      return Differ(absl::StrCat(where, name), values.first, values.second);
    }
  }
  if (a.histogram.size() != b.histogram.size()) {
    return absl::StrCat(where, "histogram bins: ", a.histogram.size(), " vs ", b.histogram.size());
  }
  if (std::memcmp(a.histogram.data(), b.histogram.data(), a.histogram.size() * sizeof(float)) !=
      0) {
    for (size_t i = 0; i < a.histogram.size(); ++i) {
      if (std::memcmp(&a.histogram[i], &b.histogram[i], sizeof(float)) != 0) {
        return absl::StrCat(where, "histogram bin ", i, ": ", Exact(a.histogram[i]), " vs ",
                            Exact(b.histogram[i]));
      }
    }
  }
  return "";
}

}  // namespace

std::string CheckpointDifference(const Checkpoint& a, const Checkpoint& b) {
  const std::string at = absl::StrCat("step ", a.step, ": ");
  if (a.step != b.step) return absl::StrCat("step ", a.step, " vs ", b.step);
  if (a.examples_seen != b.examples_seen) {
    return absl::StrCat(at, "examples_seen ", a.examples_seen, " vs ", b.examples_seen);
  }
  const std::pair<const char*, std::pair<double, double>> fields[] = {
      {"train_nll", {a.train_nll, b.train_nll}},
      {"test_error", {a.test_error, b.test_error}},
      {"test_nll", {a.test_nll, b.test_nll}},
      {"validation_error", {a.validation_error, b.validation_error}},
      {"validation_nll", {a.validation_nll, b.validation_nll}},
  };
  for (const auto& [name, values] : fields) {
    if (!SameBits(values.first, values.second)) {
      return absl::StrCat(at, Differ(name, values.first, values.second));
    }
  }
  if (a.layer_stats.size() != b.layer_stats.size()) {
    return absl::StrCat(at, "layer stats: ", a.layer_stats.size(), " vs ", b.layer_stats.size());
  }
  for (size_t i = 0; i < a.layer_stats.size(); ++i) {
    std::string d = StatDifference(a.layer_stats[i], b.layer_stats[i]);
    if (!d.empty()) return absl::StrCat(at, d);
  }
  return "";
}

std::string CheckpointsDifference(const std::vector<Checkpoint>& a,
                                  const std::vector<Checkpoint>& b) {
  if (a.size() != b.size()) {
    return absl::StrCat("checkpoint count: ", a.size(), " vs ", b.size());
  }
  for (size_t i = 0; i < a.size(); ++i) {
    std::string d = CheckpointDifference(a[i], b[i]);
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace deepsweep
