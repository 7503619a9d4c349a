// Logging setup for the programs' main() functions.
//
// Only mains call InitLogging; libraries in core/ and ml/ never log, they return
// Status. Adapters (server, worker loop, CLI) log through spdlog's default logger.
#ifndef DEEPSWEEP_COMMON_LOGGING_H_
#define DEEPSWEEP_COMMON_LOGGING_H_

#include <string>

#include "absl/status/status.h"

namespace deepsweep {

struct LoggingOptions {
  // Name shown in every line, e.g. "server" or "worker".
  std::string program = "deepsweep";
  // One of: trace, debug, info, warn, error, critical, off.
  std::string level = "info";
  // Log to stderr (true) or stdout (false).
  bool to_stderr = true;
};

// Installs a colored console logger as spdlog's default. Returns InvalidArgument
// for an unknown level name.
absl::Status InitLogging(const LoggingOptions& options);

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_LOGGING_H_
