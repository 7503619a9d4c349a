#include "store/file_snapshot_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crc32.h"
#include "common/status_macros.h"

namespace deepsweep {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(std::string_view what, const std::string& path) {
  const int e = errno;
  const std::string message = absl::StrCat(std::string(what), " ", path, ": ", std::strerror(e));
  return e == ENOSPC || e == EDQUOT ? absl::ResourceExhaustedError(message)
                                    : absl::InternalError(message);
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

absl::Status WriteFileDurably(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = Errno("fsync", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close", path);
  return absl::OkStatus();
}

std::string TrialDir(const std::string& root, TrialId trial) {
  return absl::StrCat(root, "/trial-", trial);
}

std::string FileName(const SnapshotInfo& info) {
  return absl::StrFormat("%020d-%010d-%08x.snap", info.step, info.attempt, info.crc32);
}

// Parses FileName's names; false for anything else (temporary files).
bool ParseFileName(const std::string& name, SnapshotInfo& info) {
  if (name.size() != 20 + 1 + 10 + 1 + 8 + 5 || name[20] != '-' || name[31] != '-' ||
      !name.ends_with(".snap")) {
    return false;
  }
  uint32_t crc = 0;
  if (!absl::SimpleAtoi(name.substr(0, 20), &info.step) ||
      !absl::SimpleAtoi(name.substr(21, 10), &info.attempt) ||
      !absl::SimpleHexAtoi(name.substr(32, 8), &crc)) {
    return false;
  }
  info.crc32 = crc;
  return true;
}

}  // namespace

std::string SnapshotDirFor(const std::string& db_path) { return db_path + ".snapshots"; }

absl::StatusOr<std::unique_ptr<FileSnapshotStore>> FileSnapshotStore::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
  for (const auto& trial : fs::directory_iterator(dir, ec)) {
    if (!trial.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(trial.path(), ec)) {
      if (file.path().filename().string().starts_with(".tmp-")) fs::remove(file.path(), ec);
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("scan ", dir, ": ", ec.message()));
  return std::unique_ptr<FileSnapshotStore>(new FileSnapshotStore(dir, /*read_only=*/false));
}

std::unique_ptr<FileSnapshotStore> FileSnapshotStore::OpenReadOnly(const std::string& dir) {
  return std::unique_ptr<FileSnapshotStore>(new FileSnapshotStore(dir, /*read_only=*/true));
}

absl::Status FileSnapshotStore::Put(const SnapshotInfo& info, std::string_view bytes) {
  const TrialId trial = info.trial_id;
  const int64_t step = info.step;
  const uint32_t crc32 = info.crc32;
  if (read_only_) return absl::FailedPreconditionError("the snapshot store is open read-only");
  if (step < 0) return absl::InvalidArgumentError(absl::StrCat("snapshot step ", step, " < 0"));
  const uint32_t actual = Crc32(bytes);
  if (actual != crc32) {
    return absl::DataLossError(
        absl::StrFormat("snapshot of trial %d at step %d: crc32 %08x, sender said %08x", trial,
                        step, actual, crc32));
  }
  absl::MutexLock lock(&mu_);
  const std::string dir = TrialDir(dir_, trial);
  if (::mkdir(dir.c_str(), 0755) == 0) {
    RETURN_IF_ERROR(FsyncPath(dir_, O_RDONLY | O_DIRECTORY));  // the new directory's entry
  } else if (errno != EEXIST) {
    return Errno("mkdir", dir);
  }
  const std::string temp = absl::StrCat(dir, "/.tmp-", step, "-", ::getpid(), "-", temp_counter_++);
  if (absl::Status written = WriteFileDurably(temp, bytes); !written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  // The same step stored again (a retried upload) replaces the older file.
  ASSIGN_OR_RETURN(std::vector<SnapshotInfo> existing, ListLocked(trial));
  const std::string path = absl::StrCat(dir, "/", FileName(info));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename to", path);
    ::unlink(temp.c_str());
    return s;
  }
  for (const SnapshotInfo& old : existing) {
    const std::string old_path = absl::StrCat(dir, "/", FileName(old));
    if (old.step == step && old_path != path) ::unlink(old_path.c_str());
  }
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

absl::StatusOr<std::vector<SnapshotInfo>> FileSnapshotStore::ListLocked(TrialId trial) {
  std::vector<SnapshotInfo> out;
  const std::string dir = TrialDir(dir_, trial);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& file : fs::directory_iterator(dir, ec)) {
    SnapshotInfo info{.trial_id = trial};
    if (!ParseFileName(file.path().filename().string(), info)) continue;
    info.bytes = static_cast<int64_t>(file.file_size(ec));
    out.push_back(info);
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", dir, ": ", ec.message()));
  std::sort(out.begin(), out.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.step > b.step; });
  return out;
}

absl::StatusOr<std::vector<SnapshotInfo>> FileSnapshotStore::List(TrialId trial) {
  absl::MutexLock lock(&mu_);
  return ListLocked(trial);
}

absl::StatusOr<std::string> FileSnapshotStore::Read(TrialId trial, int64_t step) {
  SnapshotInfo info;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, ListLocked(trial));
    auto it =
        std::find_if(all.begin(), all.end(), [&](const SnapshotInfo& s) { return s.step == step; });
    if (it == all.end()) {
      return absl::NotFoundError(absl::StrCat("trial ", trial, " has no snapshot at step ", step));
    }
    info = *it;
  }
  const std::string path = absl::StrCat(TrialDir(dir_, trial), "/", FileName(info));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::string bytes(static_cast<size_t>(info.bytes), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  const uint32_t actual = Crc32(bytes);
  if (actual != info.crc32) {
    return absl::DataLossError(
        absl::StrFormat("%s: crc32 %08x, its name says %08x", path, actual, info.crc32));
  }
  return bytes;
}

absl::Status FileSnapshotStore::Prune(TrialId trial, int keep) {
  if (read_only_) return absl::FailedPreconditionError("the snapshot store is open read-only");
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, ListLocked(trial));
  const std::string dir = TrialDir(dir_, trial);
  bool removed = false;
  for (size_t i = static_cast<size_t>(std::max(keep, 0)); i < all.size(); ++i) {
    const std::string path = absl::StrCat(dir, "/", FileName(all[i]));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove", path);
    removed = true;
  }
  if (removed) RETURN_IF_ERROR(FsyncPath(dir, O_RDONLY | O_DIRECTORY));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TrialId>> FileSnapshotStore::Trials() {
  absl::MutexLock lock(&mu_);
  std::vector<TrialId> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    TrialId trial = 0;
    if (!entry.is_directory() || !name.starts_with("trial-") ||
        !absl::SimpleAtoi(name.substr(6), &trial)) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<SnapshotInfo> held, ListLocked(trial));
    if (!held.empty()) out.push_back(trial);
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", dir_, ": ", ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace deepsweep
