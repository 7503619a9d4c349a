#include "client/results_file.h"

#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rpc/local_coordinator_client.h"
#include "store/file_snapshot_store.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep::client {

ResultsFileOpener ResultsFileReader(const Clock* clock) {
  return [clock](
             const std::string& path) -> absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>> {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      return absl::NotFoundError(absl::StrCat("no results file '", path, "'"));
    }
    absl::StatusOr<std::unique_ptr<SqliteSweepStore>> store = SqliteSweepStore::OpenReadOnly(path);
    if (!store.ok()) {
      return absl::Status(store.status().code(), absl::StrCat("cannot read results file '", path,
                                                              "': ", store.status().message()));
    }
    // Snapshots and trained weights live beside the file (store/file_snapshot_store.h).
    return std::make_unique<rpc::LocalCoordinatorClient>(
        *std::move(store), clock, rpc::LocalClientOptions{},
        FileSnapshotStore::OpenReadOnly(SnapshotDirFor(path)));
  };
}

}  // namespace deepsweep::client
