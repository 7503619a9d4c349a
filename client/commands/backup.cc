#include "client/commands/backup.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "rpc/database_backup.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep::client {

absl::Status BackupDatabase(CommandContext& context, const std::string& destination) {
  if (!context.flags().db.empty()) {
    return absl::FailedPreconditionError(
        "backup asks a running server; to copy a results file, copy the file (--db is for "
        "reading)");
  }
  ASSIGN_OR_RETURN(const rpc::ClientOptions options, context.ServerOptions());
  ASSIGN_OR_RETURN(const int64_t bytes, rpc::DownloadDatabaseBackup(options, destination));
  absl::StatusOr<std::unique_ptr<SqliteSweepStore>> copy =
      SqliteSweepStore::OpenReadOnly(destination);
  if (!copy.ok()) {
    return absl::DataLossError(absl::StrCat("the backup written to ", destination,
                                            " does not open: ", copy.status().message()));
  }
  ASSIGN_OR_RETURN(const std::vector<SweepRecord> sweeps, (*copy)->ListSweeps());
  int64_t trials = 0;
  for (const SweepRecord& sweep : sweeps) trials += sweep.counts.total();
  context.out() << absl::StrFormat("wrote %s: %d bytes, %d sweep(s), %d trial(s)\n", destination,
                                   bytes, sweeps.size(), trials);
  return absl::OkStatus();
}

void AddBackupCommand(CLI::App& app, CommandContext& context) {
  auto destination = std::make_shared<std::string>();
  CLI::App* backup = app.add_subcommand(
      "backup", "Copy the server's database, consistently, while it runs (admin credential)");
  backup->add_option("OUT", *destination, "The new file to write (must not exist)")->required();
  backup->callback([&context, destination] {
    context.Run([&] { return BackupDatabase(context, *destination); });
  });
}

}  // namespace deepsweep::client
