// Fuzz target: the sweep spec parser and its expansion (core/sweep_spec.h),
// which every CreateSweep request's text goes through. Input: the spec text.
//
// Properties: never crashes; a refusal is INVALID_ARGUMENT or
// RESOURCE_EXHAUSTED and its message is one line of printable ASCII whatever
// bytes were sent (issue 17, defect 11); an accepted spec expands to at most
// limits.max_trials trials within the depth, width and update limits, no two
// of them the same configuration and repeat, every seed below 2^63, and a
// second expansion gives the same trials.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/sweep_spec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool PrintableLine(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

void CheckRefusal(const absl::Status& status, const char* what) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kResourceExhausted,
             "%s: unexpected code %s", what, status.ToString().c_str());
  FUZZ_CHECK(!status.message().empty(), "%s: an error without a message", what);
  FUZZ_CHECK(PrintableLine(std::string(status.message())),
             "%s: message is not one printable line: %s", what,
             std::string(status.message()).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small enough that expanding an accepted spec stays fast.
  const deepsweep::SweepLimits limits{.max_trials = 2000, .max_depth = 16, .max_width = 4096};
  const absl::StatusOr<deepsweep::SweepSpec> spec = deepsweep::ParseSweepSpec(text, limits);
  if (!spec.ok()) {
    CheckRefusal(spec.status(), "ParseSweepSpec");
    return 0;
  }
  const absl::StatusOr<std::vector<deepsweep::TrialSpec>> trials =
      deepsweep::ExpandSweep(*spec, limits);
  if (!trials.ok()) {
    CheckRefusal(trials.status(), "ExpandSweep");
    return 0;
  }
  FUZZ_CHECK(static_cast<int64_t>(trials->size()) <= limits.max_trials, "%zu trials",
             trials->size());
  std::set<std::pair<std::string, int>> seen;
  for (const deepsweep::TrialSpec& trial : *trials) {
    FUZZ_CHECK(trial.depth <= limits.max_depth && trial.width <= limits.max_width,
               "depth %d width %d", trial.depth, trial.width);
    FUZZ_CHECK(trial.updates <= limits.max_updates, "updates %lld",
               static_cast<long long>(trial.updates));
    FUZZ_CHECK(trial.seed < (uint64_t{1} << 63) && trial.data_seed < (uint64_t{1} << 63),
               "seed %llu data seed %llu", static_cast<unsigned long long>(trial.seed),
               static_cast<unsigned long long>(trial.data_seed));
    FUZZ_CHECK(trial.seed_index >= 0 && trial.seed_index < spec->seeds, "seed_index %d",
               trial.seed_index);
    FUZZ_CHECK(seen.emplace(deepsweep::ConfigKey(trial), trial.seed_index).second,
               "configuration repeated: %s", deepsweep::ConfigKey(trial).c_str());
  }
  const absl::StatusOr<std::vector<deepsweep::TrialSpec>> again =
      deepsweep::ExpandSweep(*spec, limits);
  FUZZ_CHECK(again.ok() && *again == *trials, "a second expansion differs");
  (void)deepsweep::DescribeSchedule(spec->schedule);
  return 0;
}
