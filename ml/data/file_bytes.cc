#include "ml/data/file_bytes.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deepsweep::ml {
namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

constexpr unsigned kChunkBytes = 1u << 20;

}  // namespace

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  if (std::filesystem::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, expected a file"));
  }
  errno = 0;
  GzFile file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) {
    const int error = errno;
    const std::string reason = error != 0 ? std::strerror(error) : "cannot open";
    if (error == EACCES) return absl::PermissionDeniedError(absl::StrCat(path, ": ", reason));
    return absl::UnavailableError(absl::StrCat(path, ": ", reason));
  }
  gzbuffer(file.get(), 1u << 17);

  std::vector<uint8_t> bytes;
  int64_t size = 0;
  for (;;) {
    if (size > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": more than ", max_bytes, " bytes once decompressed"));
    }
    bytes.resize(static_cast<size_t>(size) + kChunkBytes);
    const int got = gzread(file.get(), bytes.data() + size, kChunkBytes);
    if (got < 0) {
      int errnum = 0;
      const char* message = gzerror(file.get(), &errnum);
      return absl::DataLossError(
          absl::StrCat(path, ": unreadable gzip data (", message != nullptr ? message : "?", ")"));
    }
    size += got;
    if (got == 0) break;
  }
  // A stream cut short ends with a zero read and Z_BUF_ERROR ("unexpected end
  // of file") rather than a negative count.
  int errnum = Z_OK;
  const char* message = gzerror(file.get(), &errnum);
  if (errnum != Z_OK && errnum != Z_STREAM_END) {
    return absl::DataLossError(
        absl::StrCat(path, ": unreadable gzip data (", message != nullptr ? message : "?", ")"));
  }
  bytes.resize(static_cast<size_t>(size));
  bytes.shrink_to_fit();
  return bytes;
}

}  // namespace deepsweep::ml
