#include "rpc/database_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "rpc/channel.h"
#include "rpc/status.h"

namespace deepsweep::rpc {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Writes all of `data` to `fd`.
absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(absl::StrCat("write ", path));
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> DownloadDatabaseBackup(const ClientOptions& options,
                                               const std::string& destination) {
  if (std::filesystem::exists(destination)) {
    return absl::FailedPreconditionError(
        absl::StrCat(destination, " exists already: name a new file for the backup"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, CreateChannel(options));
  std::unique_ptr<v1::CoordinatorService::Stub> stub = v1::CoordinatorService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.call_timeout));
  if (!options.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  }
  const std::string partial = destination + ".partial";
  const int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(absl::StrCat("create ", partial));
  struct Cleanup {
    int fd;
    const std::string& partial;
    bool keep = false;
    ~Cleanup() {
      if (fd >= 0) close(fd);
      if (!keep) std::remove(partial.c_str());
    }
  } cleanup{fd, partial};

  std::unique_ptr<grpc::ClientReader<v1::BackupChunk>> reader =
      stub->BackupDatabase(&context, v1::BackupDatabaseRequest());
  v1::BackupChunk chunk;
  int64_t total = -1;
  int64_t received = 0;
  absl::Status write_status;
  while (reader->Read(&chunk)) {
    total = chunk.total_bytes();
    write_status = WriteAll(fd, chunk.data(), partial);
    if (!write_status.ok()) {
      context.TryCancel();
      break;
    }
    received += static_cast<int64_t>(chunk.data().size());
  }
  const grpc::Status finished = reader->Finish();
  RETURN_IF_ERROR(write_status);
  RETURN_IF_ERROR(FromGrpcStatus(finished));
  if (total < 0 || received != total) {
    return absl::DataLossError(absl::StrCat("the backup stream ended after ", received,
                                            " bytes of ", total, "; nothing was written"));
  }
  if (fsync(fd) != 0) return Errno(absl::StrCat("fsync ", partial));
  if (std::rename(partial.c_str(), destination.c_str()) != 0) {
    return Errno(absl::StrCat("rename ", partial, " to ", destination));
  }
  cleanup.keep = true;
  return total;
}

}  // namespace deepsweep::rpc
