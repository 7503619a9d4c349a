// `deepsweep backup OUT.db`: a consistent copy of the coordinator's database,
// taken online while sweeps run (the admin RPC BackupDatabase) and written to
// OUT.db, which must not exist. The copy is then opened read-only like a
// results file and summarised (sweeps, trials), so a backup that cannot be
// read fails here rather than on the day of the restore. Restoring it:
// docs/OPERATIONS.md, "Backups".
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_BACKUP_H_
#define DEEPSWEEP_CLIENT_COMMANDS_BACKUP_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

absl::Status BackupDatabase(CommandContext& context, const std::string& destination);

void AddBackupCommand(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_BACKUP_H_
