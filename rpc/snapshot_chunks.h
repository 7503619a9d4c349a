// Snapshots on the wire: a snapshot travels as a stream of v1::SnapshotChunk
// messages of at most kSnapshotChunkBytes of data each (far below gRPC's
// 4 MiB message limit, which is never raised for them); the first chunk
// carries the header (trial, lease, step, total_bytes, crc32).
//
// Thread-safety: values used by one thread.
#ifndef DEEPSWEEP_RPC_SNAPSHOT_CHUNKS_H_
#define DEEPSWEEP_RPC_SNAPSHOT_CHUNKS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "deepsweep/v1/coordinator.pb.h"

namespace deepsweep::rpc {

inline constexpr size_t kSnapshotChunkBytes = size_t{1} << 20;

// Splits `bytes` into chunks, `header` (data empty) filling the first, and
// hands each to `write`; stops at the first false (returns false then).
bool WriteSnapshotChunks(const v1::SnapshotChunk& header, std::string_view bytes,
                         const std::function<bool(const v1::SnapshotChunk&)>& write);

// Reassembles a chunk stream.
class SnapshotAssembler {
 public:
  // `max_bytes` bounds total_bytes (RESOURCE_EXHAUSTED beyond it).
  explicit SnapshotAssembler(int64_t max_bytes) : max_bytes_(max_bytes) {}
  // Takes the next chunk: INVALID_ARGUMENT for a first chunk without a
  // header, DATA_LOSS for more data than announced.
  absl::Status Add(const v1::SnapshotChunk& chunk);
  // After the last chunk: DATA_LOSS when fewer bytes than announced came.
  absl::Status Finish() const;
  bool started() const { return started_; }
  const v1::SnapshotChunk& header() const { return header_; }
  const std::string& bytes() const { return bytes_; }
  std::string TakeBytes() { return std::move(bytes_); }

 private:
  int64_t max_bytes_;
  bool started_ = false;
  v1::SnapshotChunk header_;
  std::string bytes_;
};

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_SNAPSHOT_CHUNKS_H_
