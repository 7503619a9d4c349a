// How a CLI command reports the outcome of its work: an error goes to stderr
// as "deepsweep: <message>" and ends the program with exit code 1 (CLI11's
// RuntimeError, which CLI11_PARSE turns into the return code).
//
// Thread-safety: call from the command's callback only.
#ifndef DEEPSWEEP_CLIENT_COMMAND_STATUS_H_
#define DEEPSWEEP_CLIENT_COMMAND_STATUS_H_

#include "absl/status/status.h"

namespace deepsweep::client {

void ExitOnError(const absl::Status& status);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMAND_STATUS_H_
