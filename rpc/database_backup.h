// Downloads a backup of the coordinator's database (the admin RPC
// BackupDatabase): the server copies its SQLite file online with SQLite's
// backup API and streams the copy; this writes it to a local file.
//
// The file appears whole or not at all: the chunks go to DESTINATION.partial,
// which is flushed to disk (fsync) and renamed to DESTINATION only once every
// byte the server announced has arrived.
//
// Errors: FAILED_PRECONDITION when `destination` exists already; the RPC's
// (UNAUTHENTICATED, PERMISSION_DENIED for a role other than admin,
// FAILED_PRECONDITION for a server without a database file, UNAVAILABLE,
// DEADLINE_EXCEEDED after options.call_timeout for the whole download);
// DATA_LOSS when the stream ended short of the announced size; INTERNAL when
// the file cannot be written.
// Thread-safety: a pure function of its arguments (and the file system).
#ifndef DEEPSWEEP_RPC_DATABASE_BACKUP_H_
#define DEEPSWEEP_RPC_DATABASE_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "rpc/grpc_coordinator_client.h"

namespace deepsweep::rpc {

// Returns the backup's size in bytes.
absl::StatusOr<int64_t> DownloadDatabaseBackup(const ClientOptions& options,
                                               const std::string& destination);

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_DATABASE_BACKUP_H_
