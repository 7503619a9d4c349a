#include "ml/snapshot_format.h"

#include "absl/strings/str_cat.h"
#include "common/byte_codec.h"
#include "common/crc32.h"

namespace deepsweep::ml {
namespace {

constexpr std::string_view kMagic("DSSNAP\r\n", 8);

}  // namespace

std::string FrameSnapshot(std::string_view payload) {
  ByteWriter tail;
  tail.U64(payload.size());
  tail.Raw(payload);
  ByteWriter out;
  out.Raw(kMagic);
  out.U32(kSnapshotFormatVersion);
  out.U32(Crc32(tail.bytes()));
  out.Raw(tail.bytes());
  return out.Take();
}

absl::StatusOr<std::string_view> UnframeSnapshot(std::string_view frame) {
  if (frame.size() < kSnapshotHeaderBytes) {
    return absl::DataLossError(absl::StrCat("snapshot is ", frame.size(),
                                            " bytes, shorter than its ", kSnapshotHeaderBytes,
                                            "-byte header"));
  }
  if (frame.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("snapshot does not start with the DSSNAP magic");
  }
  ByteReader header(frame.substr(kMagic.size(), 16), "snapshot header");
  const uint32_t version = header.U32();
  const uint32_t crc = header.U32();
  const uint64_t length = header.U64();
  if (version != kSnapshotFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot format version ", version, "; this binary reads ", kSnapshotFormatVersion));
  }
  if (length != frame.size() - kSnapshotHeaderBytes) {
    return absl::DataLossError(absl::StrCat("snapshot payload is ",
                                            frame.size() - kSnapshotHeaderBytes,
                                            " bytes; its header says ", length, " (truncated?)"));
  }
  const uint32_t actual = Crc32(frame.substr(16));
  if (actual != crc) {
    return absl::DataLossError(
        absl::StrCat("snapshot checksum mismatch: header crc32 ", crc, ", content ", actual));
  }
  return frame.substr(kSnapshotHeaderBytes);
}

}  // namespace deepsweep::ml
