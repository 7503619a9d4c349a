// Runs one `deepsweep` command line in-process through RunCli and captures
// what it printed, for the CLI tests.
#ifndef DEEPSWEEP_TESTS_CLIENT_CLI_RUNNER_H_
#define DEEPSWEEP_TESTS_CLIENT_CLI_RUNNER_H_

#include <string>
#include <vector>

#include "client/cli.h"
#include "common/clock.h"

namespace deepsweep::client::testing {

struct CliResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

struct RunSettings {
  std::string stdin_text;
  bool tty = false;
  CliEnvironment environment;
};

CliResult RunCommand(const std::vector<std::string>& args, const Clock& clock,
                     const ResultsFileOpener& opener, const RunSettings& settings = {});

}  // namespace deepsweep::client::testing

#endif  // DEEPSWEEP_TESTS_CLIENT_CLI_RUNNER_H_
