// The frame around a trainer snapshot's payload (ml/trainer.h lists the
// payload): a fixed header that names the format and its version and a CRC-32
// that covers everything after the first 16 bytes, so a truncated, corrupted
// or foreign byte string is rejected before any of it is interpreted.
//
// Layout (little-endian):
//   offset  0  8 bytes  magic "DSSNAP\r\n"
//   offset  8  u32      format version (kSnapshotFormatVersion)
//   offset 12  u32      CRC-32 (zlib's) of bytes [16, end)
//   offset 16  u64      payload length; the frame is exactly 24 + length bytes
//   offset 24  payload
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_ML_SNAPSHOT_FORMAT_H_
#define DEEPSWEEP_ML_SNAPSHOT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace deepsweep::ml {

inline constexpr uint32_t kSnapshotFormatVersion = 1;
inline constexpr size_t kSnapshotHeaderBytes = 24;

// Header + payload.
std::string FrameSnapshot(std::string_view payload);

// The payload of a frame, after checking magic, version, length and CRC;
// DataLoss naming the first failed check (FailedPrecondition for a version
// this binary does not read).
absl::StatusOr<std::string_view> UnframeSnapshot(std::string_view frame);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_SNAPSHOT_FORMAT_H_
