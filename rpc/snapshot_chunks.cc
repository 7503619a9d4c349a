#include "rpc/snapshot_chunks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace deepsweep::rpc {

bool WriteSnapshotChunks(const v1::SnapshotChunk& header, std::string_view bytes,
                         const std::function<bool(const v1::SnapshotChunk&)>& write) {
  size_t at = 0;
  bool first = true;
  do {
    v1::SnapshotChunk chunk;
    if (first) chunk = header;
    const size_t n = std::min(kSnapshotChunkBytes, bytes.size() - at);
    chunk.set_data(std::string(bytes.substr(at, n)));
    at += n;
    first = false;
    if (!write(chunk)) return false;
  } while (at < bytes.size());
  return true;
}

absl::Status SnapshotAssembler::Add(const v1::SnapshotChunk& chunk) {
  if (!started_) {
    if (chunk.trial_id() <= 0) {
      return absl::InvalidArgumentError("the first snapshot chunk must name the trial");
    }
    if (chunk.total_bytes() < 0 || chunk.total_bytes() > max_bytes_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("snapshot of ", chunk.total_bytes(), " bytes; the limit is ", max_bytes_));
    }
    header_ = chunk;
    header_.clear_data();
    bytes_.reserve(static_cast<size_t>(chunk.total_bytes()));
    started_ = true;
  }
  if (static_cast<int64_t>(bytes_.size() + chunk.data().size()) > header_.total_bytes()) {
    return absl::DataLossError(absl::StrCat("snapshot chunks carry more than the announced ",
                                            header_.total_bytes(), " bytes"));
  }
  bytes_.append(chunk.data());
  return absl::OkStatus();
}

absl::Status SnapshotAssembler::Finish() const {
  if (!started_) return absl::InvalidArgumentError("no snapshot chunks arrived");
  if (static_cast<int64_t>(bytes_.size()) != header_.total_bytes()) {
    return absl::DataLossError(absl::StrCat("snapshot stream ended after ", bytes_.size(), " of ",
                                            header_.total_bytes(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace deepsweep::rpc
