#include "worker/auto_plan.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "worker/worker_identity.h"

namespace deepsweep::worker {
namespace {

constexpr char kHeader[] = "deepsweep auto plan 1";
constexpr char kHeaderPrefix[] = "deepsweep auto plan ";

// Holds an exclusive flock on a file while it lives (none when it failed).
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ >= 0 && flock(fd_, LOCK_EX) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool locked() const { return fd_ >= 0; }

 private:
  int fd_;
};

// The key lines a usable cache file must have, in file order.
std::vector<std::pair<std::string, std::string>> ExpectedKeys(const AutoPlanOptions& options) {
  const ml::MlpShape& shape = options.timer.shape;
  std::vector<int> widths = {shape.input_dim};
  widths.insert(widths.end(), shape.hidden.begin(), shape.hidden.end());
  widths.push_back(shape.output_dim);
  const std::string measured = absl::StrCat(
      absl::StrJoin(options.calibration.columns, ","), " ",
      absl::StrJoin(options.calibration.candidates, ",",
                    [](std::string* out, ml::GemmBackend b) {
                      absl::StrAppend(out, std::string(ml::GemmBackendName(b)));
                    }),
      " ", absl::StrJoin(widths, "-"), " ", std::string(ml::ActivationName(shape.activation)));
  return {
      {"cpu", options.cpu_model.empty() ? CpuModelName() : options.cpu_model},
      {"isa", std::string(ml::KernelIsaName(ml::ActiveKernelIsa()))},
      {"openblas", ml::OpenBlasCoreName()},
      {"binary", options.binary.empty() ? BinaryIdentity() : options.binary},
      {"threads", absl::StrCat(options.timer.threads)},
      {"measured", measured},
  };
}

struct CacheRead {
  std::optional<ml::AutoPlan> plan;  // set when the file matches
  std::vector<std::string> summary;  // its comment lines
  std::string stale;                 // why a readable file does not match
  std::string damaged;               // why the file is not a cache file
};

CacheRead ReadCache(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& expected) {
  CacheRead out;
  std::ifstream in(path);
  if (!in) return out;  // none yet
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    if (absl::StartsWith(line, kHeaderPrefix)) {
      out.stale = absl::StrCat("it is of another format (", line, ")");
    } else {
      out.damaged = "its first line is not \"" + std::string(kHeader) + "\"";
    }
    return out;
  }
  std::map<std::string, std::string> keys;
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      out.summary.push_back(std::string(absl::StripAsciiWhitespace(line.substr(1))));
      continue;
    }
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || colon == 0) {
      out.damaged = absl::StrCat("line ", number, " is not \"key: value\"");
      return out;
    }
    keys[line.substr(0, colon)] = line.substr(colon + 2);
  }
  for (const auto& [key, want] : expected) {
    auto it = keys.find(key);
    if (it == keys.end()) {
      out.damaged = absl::StrCat("it has no \"", key, "\" line");
      return out;
    }
    if (it->second != want && out.stale.empty()) {
      out.stale = absl::StrCat("it was measured with ", key, " \"", it->second, "\", this is \"",
                               want, "\"");
    }
  }
  auto plan_line = keys.find("plan");
  if (plan_line == keys.end()) {
    out.damaged = "it has no \"plan\" line";
    return out;
  }
  absl::StatusOr<ml::AutoPlan> plan = ml::ParseAutoPlan(plan_line->second);
  if (!plan.ok()) {
    out.damaged = std::string(plan.status().message());
    return out;
  }
  if (out.stale.empty()) out.plan = *std::move(plan);
  return out;
}

// Writes the cache file through a temporary renamed into place; a warning
// when it cannot.
std::optional<std::string> WriteCache(const std::string& path,
                                      const std::vector<std::pair<std::string, std::string>>& keys,
                                      const ml::AutoPlan& plan,
                                      const std::vector<std::string>& summary) {
  std::ostringstream text;
  text << kHeader << "\n";
  for (const auto& [key, value] : keys) text << key << ": " << value << "\n";
  text << "plan: " << ml::AutoPlanText(plan) << "\n";
  for (const std::string& line : summary) text << "# " << line << "\n";
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text.str();
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      return absl::StrCat("could not write the auto plan cache ", temp);
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::StrCat("could not move the auto plan cache into place at ", path);
  }
  return std::nullopt;
}

absl::StatusOr<AutoPlanResult> Measure(const AutoPlanOptions& options,
                                       const StepTimerFactory& timers) {
  ASSIGN_OR_RETURN(std::unique_ptr<ml::StepTimer> timer, timers(options.timer));
  ASSIGN_OR_RETURN(const ml::Calibration calibration,
                   ml::CalibrateAutoPlan(*timer, options.calibration));
  AutoPlanResult result;
  result.plan = calibration.plan;
  result.summary = ml::CalibrationSummary(calibration, options.calibration);
  result.summary.push_back(absl::StrCat(calibration.rounds, " rounds in ",
                                        absl::StrFormat("%.2f", calibration.elapsed_seconds),
                                        " s"));
  return result;
}

}  // namespace

StepTimerFactory RealStepTimers() {
  return [](const ml::StepTimerOptions& options) -> absl::StatusOr<std::unique_ptr<ml::StepTimer>> {
    // One thread: its CPU time, which other processes on the core do not
    // lengthen. More: wall time (the helpers' time is not the caller's).
    static const ml::ThreadCpuClock cpu_clock;
    const Clock* step_clock =
        options.threads == 1 ? static_cast<const Clock*>(&cpu_clock) : SystemClock::Default();
    ASSIGN_OR_RETURN(std::unique_ptr<ml::TrainingStepTimer> timer,
                     ml::TrainingStepTimer::Create(SystemClock::Default(), step_clock, options));
    return std::unique_ptr<ml::StepTimer>(std::move(timer));
  };
}

absl::StatusOr<AutoPlanResult> LoadOrMeasureAutoPlan(const AutoPlanOptions& options,
                                                     const StepTimerFactory& timers) {
  if (options.cache_dir.empty()) return Measure(options, timers);

  std::vector<std::string> warnings;
  std::error_code error;
  std::filesystem::create_directories(options.cache_dir, error);
  const std::string file =
      (std::filesystem::path(options.cache_dir) /
       absl::StrCat("auto-plan-", std::string(ml::KernelIsaName(ml::ActiveKernelIsa())), "-",
                    options.timer.threads, "t.txt"))
          .string();
  const FileLock lock(file + ".lock");
  if (!lock.locked()) {
    warnings.push_back(absl::StrCat("could not lock ", file, ".lock; measuring without the cache (",
                                    options.cache_dir, ")"));
    ASSIGN_OR_RETURN(AutoPlanResult result, Measure(options, timers));
    result.warnings = std::move(warnings);
    return result;
  }
  const std::vector<std::pair<std::string, std::string>> keys = ExpectedKeys(options);
  CacheRead read = ReadCache(file, keys);
  if (read.plan.has_value()) {
    return AutoPlanResult{.plan = *std::move(read.plan),
                          .from_cache = true,
                          .cache_file = file,
                          .summary = std::move(read.summary)};
  }
  if (!read.damaged.empty()) {
    warnings.push_back(absl::StrCat("ignoring the damaged auto plan cache ", file, " (",
                                    read.damaged, "); measuring again"));
  }
  ASSIGN_OR_RETURN(AutoPlanResult result, Measure(options, timers));
  if (!read.stale.empty()) {
    result.summary.insert(
        result.summary.begin(),
        absl::StrCat("measured again: the cache ", file, " did not apply (", read.stale, ")"));
  }
  if (std::optional<std::string> failed = WriteCache(file, keys, result.plan, result.summary)) {
    warnings.push_back(*failed);
  }
  result.cache_file = file;
  result.warnings = std::move(warnings);
  return result;
}

std::string DefaultCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/deepsweep");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.cache/deepsweep");
  return "";
}

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "model name")) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "unknown";
}

std::string BinaryIdentity() {
  std::string identity = WorkerVersion();
  struct stat st {};
  if (stat("/proc/self/exe", &st) == 0) {
    absl::StrAppend(&identity, " exe=", static_cast<int64_t>(st.st_size), "@",
                    static_cast<int64_t>(st.st_mtime));
  }
  return identity;
}

}  // namespace deepsweep::worker
