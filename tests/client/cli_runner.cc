#include "tests/client/cli_runner.h"

#include <sstream>

namespace deepsweep::client::testing {

CliResult RunCommand(const std::vector<std::string>& args, const Clock& clock,
                     const ResultsFileOpener& opener, const RunSettings& settings) {
  std::istringstream in(settings.stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const CommandIo io{&in, &out, &err, settings.tty, &clock};
  CliResult result;
  result.exit_code = RunCli(args, settings.environment, io, opener);
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace deepsweep::client::testing
