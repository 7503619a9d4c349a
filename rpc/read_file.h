// Reads a small file whole: the PEM certificates, keys and token files of the
// client and server options.
//
// Thread-safety: a pure function of the file system.
#ifndef DEEPSWEEP_RPC_READ_FILE_H_
#define DEEPSWEEP_RPC_READ_FILE_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace deepsweep::rpc {

// The file's bytes. `what` names the file in errors ("TLS CA certificate").
// Errors: NOT_FOUND (no such file), PERMISSION_DENIED, FAILED_PRECONDITION
// (empty file or a directory), INTERNAL (read error).
absl::StatusOr<std::string> ReadFileContents(const std::string& path, absl::string_view what);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_READ_FILE_H_
