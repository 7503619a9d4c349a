#include "client/command_status.h"

#include <iostream>

#include "CLI/CLI.hpp"

namespace deepsweep::client {

void ExitOnError(const absl::Status& status) {
  if (status.ok()) return;
  std::cerr << "deepsweep: " << status.message() << "\n";
  throw CLI::RuntimeError(1);
}

}  // namespace deepsweep::client
