// The worker's auto plan cache (worker/auto_plan.h) with a scripted timer:
// measured once and reused, measured again for another CPU model, binary or
// thread count, and a damaged file ignored with a warning and replaced.
#include "worker/auto_plan.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::worker {
namespace {

using ::testing::HasSubstr;

// small_batch takes `small` seconds per step at every width, blas 2 ms, eigen 3 ms.
class ScriptedTimer final : public ml::StepTimer {
 public:
  explicit ScriptedTimer(double small) : small_(small) {}
  ml::StepTiming Measure(ml::GemmBackend backend, int /*columns*/) override {
    const double s = backend == ml::GemmBackend::kSmallBatch ? small_
                     : backend == ml::GemmBackend::kBlas     ? 0.002
                                                             : 0.003;
    return {.seconds_per_step = s, .steps = 1, .elapsed_seconds = 0.01};
  }

 private:
  double small_;
};

class AutoPlanCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("auto_plan_test_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    options_.cache_dir = (dir_ / "cache").string();
    options_.cpu_model = "Test CPU 9000";
    options_.binary = "0.1.0 exe=1@2";
    options_.calibration.min_rounds = 1;
    options_.calibration.max_rounds = 1;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Counts the timers made; each small_batch step takes small_ seconds.
  StepTimerFactory Timers() {
    return [this](const ml::StepTimerOptions&) -> absl::StatusOr<std::unique_ptr<ml::StepTimer>> {
      ++timers_made_;
      return std::unique_ptr<ml::StepTimer>(new ScriptedTimer(small_));
    };
  }

  AutoPlanResult Load() {
    absl::StatusOr<AutoPlanResult> result = LoadOrMeasureAutoPlan(options_, Timers());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : AutoPlanResult{};
  }

  std::string File() const {
    return (dir_ / "cache" /
            absl::StrCat("auto-plan-", std::string(ml::KernelIsaName(ml::ActiveKernelIsa())), "-",
                         options_.timer.threads, "t.txt"))
        .string();
  }
  std::string ReadFile() const {
    std::ifstream in(File());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void WriteFile(const std::string& text) const {
    std::ofstream out(File(), std::ios::trunc);
    out << text;
  }

  std::filesystem::path dir_;
  AutoPlanOptions options_;
  double small_ = 0.001;  // fastest: the plan is small_batch everywhere
  int timers_made_ = 0;
};

TEST_F(AutoPlanCacheTest, MeasuresOnceThenReadsTheCache) {
  const AutoPlanResult first = Load();
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(ml::AutoPlanText(first.plan), "1:small_batch");
  EXPECT_EQ(first.cache_file, File());
  EXPECT_TRUE(first.warnings.empty());
  EXPECT_EQ(timers_made_, 1);
  const std::string text = ReadFile();
  EXPECT_THAT(text, HasSubstr("deepsweep auto plan 1\ncpu: Test CPU 9000\n"));
  EXPECT_THAT(text, HasSubstr("\nbinary: 0.1.0 exe=1@2\nthreads: 1\n"));
  EXPECT_THAT(text, HasSubstr("\nplan: 1:small_batch\n"));
  EXPECT_THAT(text, HasSubstr("\n# 10 columns: small_batch 1.000 ms (1), eigen 3.000 ms (1), "
                              "blas 2.000 ms (1) -> small_batch\n"));

  // The next start reads it, even though small_batch would now lose.
  small_ = 1;
  const AutoPlanResult second = Load();
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.plan, first.plan);
  EXPECT_EQ(timers_made_, 1);
  EXPECT_THAT(second.summary, ::testing::Contains(HasSubstr("10 columns: small_batch 1.000 ms")));
}

TEST_F(AutoPlanCacheTest, AnotherCpuModelBinaryOrThreadCountMeasuresAgain) {
  Load();
  ASSERT_EQ(timers_made_, 1);
  small_ = 1;  // now blas wins: a new measurement shows
  options_.cpu_model = "Test CPU 9001";
  AutoPlanResult r = Load();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(ml::AutoPlanText(r.plan), "1:blas");
  EXPECT_EQ(timers_made_, 2);
  EXPECT_TRUE(r.warnings.empty());  // stale is not damaged
  EXPECT_THAT(r.summary.front(), HasSubstr("cpu \"Test CPU 9000\", this is \"Test CPU 9001\""));
  EXPECT_THAT(ReadFile(), HasSubstr("cpu: Test CPU 9001\n"));
  EXPECT_TRUE(Load().from_cache);

  options_.binary = "0.2.0 exe=3@4";
  EXPECT_FALSE(Load().from_cache);
  EXPECT_EQ(timers_made_, 3);
  EXPECT_TRUE(Load().from_cache);

  // Another thread count: its own file, measured with that many threads.
  options_.timer.threads = 2;
  EXPECT_FALSE(Load().from_cache);
  EXPECT_EQ(timers_made_, 4);
  options_.timer.threads = 1;
  EXPECT_TRUE(Load().from_cache);

  // Other widths measured: measured again.
  options_.calibration.columns = {1, 10};
  EXPECT_FALSE(Load().from_cache);
  EXPECT_EQ(timers_made_, 5);
}

TEST_F(AutoPlanCacheTest, ADamagedFileIsIgnoredWithAWarningAndReplaced) {
  Load();
  const std::string good = ReadFile();
  const std::map<std::string, std::string> damaged = {
      {"garbage", "\x01\x02 not a plan at all"},
      {"empty", ""},
      {"cut short", good.substr(0, good.find("plan:"))},
      {"bad plan", absl::StrCat(good.substr(0, good.find("plan:")), "plan: 1:warp_drive\n")},
      {"bad line", absl::StrCat(good, "what is this\n")},
  };
  for (const auto& [what, text] : damaged) {
    SCOPED_TRACE(what);
    WriteFile(text);
    const int before = timers_made_;
    const AutoPlanResult r = Load();
    EXPECT_FALSE(r.from_cache);
    EXPECT_EQ(timers_made_, before + 1);
    EXPECT_EQ(ml::AutoPlanText(r.plan), "1:small_batch");
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_THAT(r.warnings[0], HasSubstr("ignoring the damaged auto plan cache " + File()));
    EXPECT_EQ(ReadFile(), good);  // replaced by a good one
    EXPECT_TRUE(Load().from_cache);
  }
  // A file of another format version is stale, not damaged.
  WriteFile("deepsweep auto plan 2\nwhatever: this is\n");
  const AutoPlanResult r = Load();
  EXPECT_FALSE(r.from_cache);
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(AutoPlanCacheTest, WithoutACacheDirEveryCallMeasures) {
  options_.cache_dir = "";
  EXPECT_FALSE(Load().from_cache);
  EXPECT_FALSE(Load().from_cache);
  EXPECT_EQ(timers_made_, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cache"));
}

TEST_F(AutoPlanCacheTest, AnUnusableCacheDirIsAWarningNotAnError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "cache") << "a file where the directory should be";
  const AutoPlanResult r = Load();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(ml::AutoPlanText(r.plan), "1:small_batch");
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_THAT(r.warnings[0], HasSubstr("could not"));
}

TEST(AutoPlanIdentity, NamesThisMachineAndBinary) {
  EXPECT_FALSE(CpuModelName().empty());
  EXPECT_THAT(BinaryIdentity(), HasSubstr(" exe="));
}

}  // namespace
}  // namespace deepsweep::worker
