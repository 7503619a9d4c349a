// Argument parsing, as a table: each command line with the exit code and the
// one error line it must produce. Nothing listens at the default server
// (127.0.0.1:1) and --db cannot be opened, so a command that reached for a
// coordinator when it should have failed on its arguments shows up as a
// wrong message.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_runner.h"

namespace deepsweep::client {
namespace {

using ::testing::HasSubstr;

struct ArgsCase {
  std::vector<std::string> args;
  int exit_code;        // 1 = a command failed; CLI11's own codes for usage errors
  std::string err_has;  // the error stream must contain this
};

class CliArgsTest : public ::testing::TestWithParam<ArgsCase> {};

TEST_P(CliArgsTest, ExitCodeAndMessage) {
  const ArgsCase& c = GetParam();
  FakeClock clock;
  const ResultsFileOpener no_files = [](const std::string&) {
    return absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>>(
        absl::UnavailableError("the test opens no results file"));
  };
  const testing::CliResult r =
      testing::RunCommand(c.args, clock, no_files, {.environment = {.server = "127.0.0.1:1"}});
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_THAT(r.err, HasSubstr(c.err_has));
  if (c.exit_code == 1) {
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
}

const ArgsCase kCases[] = {
    // CLI11 usage errors (its exit codes are above 100).
    {{}, 106, "deepsweep: name a command (deepsweep --help lists them)"},
    {{"frobnicate"}, 109, "The following argument was not expected: frobnicate"},
    {{"results", "--limit", "ten"}, 104, "Could not convert: --limit = ten"},
    {{"results", "--format", "xml"}, 105, "xml not in {table,csv,json}"},
    {{"curves"}, 106, "TRIAL is required"},
    {{"plot", "test-error", "1"}, 106, "--out is required"},
    {{"watch"}, 106, "SWEEP is required"},
    {{"status", "1", "2"}, 109, "2"},
    // Argument errors found before any coordinator is asked.
    {{"retry", "1", "--states", "succeeded"}, 1, "cannot retry trials in state 'succeeded'"},
    {{"retry", "1", "--states", "done"}, 1, "cannot retry trials in state 'done'"},
    {{"--timeout", "0", "status"}, 1, "--timeout must be positive, got 0"},
    {{"plot", "pie", "1", "-o", "x.png"}, 1, "unknown figure 'pie'"},
    {{"plot", "test-error", "1", "abc", "-o", "x.png"}, 1, "'abc' is not a trial id"},
    {{"plot", "test-error", "1", "-o", "x.jpg"}, 1, "name the file .png, .svg or .pdf"},
    {{"plot", "test-error", "1", "-o", "x.png", "--x", "hours"}, 1, "unknown x axis 'hours'"},
    {{"plot", "histogram", "1", "-o", "x.png", "--bands"}, 1, "--bands is for the test-error"},
    {{"results", "depth:ge:x"}, 1, "condition on depth: expected an integer"},
    {{"plot", "histogram", "1", "-o", "x.png", "--size", "big"}, 1, "--size must be WIDTHxHEIGHT"},
    {{"plot", "histogram", "1", "-o", "x.png", "--quantity", "bias"}, 1, "unknown quantity 'bias'"},
    {{"layers", "1", "--quantity", "bias"}, 1, "unknown quantity 'bias'"},
    {{"curves", "0"}, 1, "'0' is not a trial id"},
    {{"replay", "x"}, 1, "'x' is not a trial id"},
    {{"summary", "--confidence", "1.5"}, 1, "confidence must be in (0, 1), got 1.5"},
    {{"summary", "--by", "colour"}, 1, "unknown configuration field 'colour'"},
    {{"table", "--confidence", "0"}, 1, "confidence must be in (0, 1), got 0"},
    {{"results", "depth=>3"}, 1, "malformed operator in filter 'depth=>3'"},
    {{"results", "depth>=three"}, 1, "condition on depth: expected an integer"},
    {{"results", "--sort", "-speed"}, 1, "unknown trial field 'speed'"},
    {{"results", "--columns", "id,colour"}, 1, "unknown column 'colour'"},
    {{"results", "--limit", "-1"}, 1, "limit must be >= 0, got -1"},
    {{"submit", "/nonexistent/spec.yaml", "--dry-run"},
     1,
     "cannot read spec file '/nonexistent/spec.yaml'"},
    {{"submit", "-", "--dry-run", "--sample", "-2"}, 1, "--sample must be >= 0"},
    // The coordinator is asked, and is not there: one line naming it.
    {{"status"}, 1, "cannot reach the coordinator at 127.0.0.1:1: "},
    {{"status", "--server", "127.0.0.1:2"}, 1, "cannot reach the coordinator at 127.0.0.1:2: "},
    {{"--db", "results.db", "status"}, 1, "the test opens no results file"},
};

INSTANTIATE_TEST_SUITE_P(Table, CliArgsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ArgsCase>& info) {
                           return "case" + std::to_string(info.index);
                         });

TEST(CliHelpTest, HelpListsEveryCommand) {
  FakeClock clock;
  const testing::CliResult r = testing::RunCommand({"--help"}, clock, nullptr);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* command :
       {"submit", "status", "watch", "cancel", "retry", "workers", "results", "summary", "table",
        "curves", "layers", "plot", "replay", "health", "data"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("\n  ") + command + " ")) << command;
  }
}

}  // namespace
}  // namespace deepsweep::client
