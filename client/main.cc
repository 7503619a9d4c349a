// deepsweep: the command-line client. Wiring only: the environment, the
// terminal and the standard streams go to RunCli (client/cli.h).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "client/results_file.h"
#include "common/clock.h"

namespace {
std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}
}  // namespace

int main(int argc, char** argv) {
  const deepsweep::client::CliEnvironment environment{Env("DEEPSWEEP_SERVER"),
                                                      Env("DEEPSWEEP_TOKEN")};
  const deepsweep::client::CommandIo io{&std::cin, &std::cout, &std::cerr,
                                        isatty(STDOUT_FILENO) == 1,
                                        deepsweep::SystemClock::Default()};
  return deepsweep::client::RunCli(
      std::vector<std::string>(argv + 1, argv + argc), environment, io,
      deepsweep::client::ResultsFileReader(deepsweep::SystemClock::Default()));
}
