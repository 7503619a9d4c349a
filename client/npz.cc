#include "client/npz.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/byte_codec.h"
#include "common/crc32.h"

namespace deepsweep::client {
namespace {

// numpy's shape tuple: "()", "(3,)", "(2, 3)".
std::string ShapeTuple(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

}  // namespace

void NpzWriter::AddNpy(std::string_view name, std::string_view descr,
                       const std::vector<int64_t>& shape, std::string data) {
  std::string header =
      absl::StrCat("{'descr': '", std::string(descr),
                   "', 'fortran_order': False, 'shape': ", ShapeTuple(shape), ", }");
  // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  ByteWriter out;
  out.Raw(std::string_view("\x93NUMPY\x01\x00", 8));
  out.U8(static_cast<uint8_t>(header.size() & 0xff));
  out.U8(static_cast<uint8_t>(header.size() >> 8));
  out.Raw(header);
  out.Raw(data);
  entries_.push_back({absl::StrCat(std::string(name), ".npy"), out.Take()});
}

void NpzWriter::AddFloat32(std::string_view name, std::vector<int64_t> shape,
                           std::span<const float> values) {
  ByteWriter data;
  data.F32Array(values);
  AddNpy(name, "<f4", shape, data.Take().substr(8));  // without F32Array's count
}

void NpzWriter::AddInt64(std::string_view name, std::vector<int64_t> shape,
                         std::span<const int64_t> values) {
  ByteWriter data;
  for (int64_t v : values) data.I64(v);
  AddNpy(name, "<i8", shape, data.Take());
}

void NpzWriter::AddString(std::string_view name, std::string_view ascii) {
  ByteWriter data;  // UTF-32LE, one code unit per ASCII character
  for (char c : ascii) data.U32(static_cast<uint8_t>(c));
  if (ascii.empty()) data.U32(0);  // '<U1' holding ""
  AddNpy(name, absl::StrCat("<U", std::max<size_t>(ascii.size(), 1)), {}, data.Take());
}

absl::StatusOr<std::string> NpzWriter::Finish() const {
  // Zip (PKWARE APPNOTE): local header + data per entry, then the central
  // directory and its end record. Method 0 (stored), no flags, DOS time 0.
  ByteWriter zip, central;
  for (const Entry& e : entries_) {
    if (zip.size() + e.bytes.size() + e.name.size() + 30 > 0xffffffffu) {
      return absl::ResourceExhaustedError("the .npz would exceed 4 GiB (zip64 is not written)");
    }
    const uint32_t offset = static_cast<uint32_t>(zip.size());
    const uint32_t crc = Crc32(e.bytes);
    const auto size = static_cast<uint32_t>(e.bytes.size());
    auto common = [&](ByteWriter& w) {
      w.U8(20);  // version needed 2.0
      w.U8(0);
      w.U8(0);  // flags
      w.U8(0);
      w.U8(0);  // method: stored
      w.U8(0);
      w.U32(0);  // DOS time and date
      w.U32(crc);
      w.U32(size);  // compressed
      w.U32(size);  // uncompressed
      w.U8(static_cast<uint8_t>(e.name.size() & 0xff));
      w.U8(static_cast<uint8_t>(e.name.size() >> 8));
      w.U8(0);  // extra length
      w.U8(0);
    };
    zip.U32(0x04034b50);
    common(zip);
    zip.Raw(e.name);
    zip.Raw(e.bytes);
    central.U32(0x02014b50);
    central.U8(20);  // version made by
    central.U8(0);
    common(central);
    for (int i = 0; i < 6; ++i) central.U8(0);  // comment length, disk, internal attributes
    central.U32(0);                             // external attributes
    central.U32(offset);
    central.Raw(e.name);
  }
  const auto directory_offset = static_cast<uint32_t>(zip.size());
  const auto directory_size = static_cast<uint32_t>(central.size());
  zip.Raw(central.bytes());
  zip.U32(0x06054b50);
  zip.U32(0);  // disk numbers
  const auto count = static_cast<uint16_t>(entries_.size());
  for (int i = 0; i < 2; ++i) {
    zip.U8(static_cast<uint8_t>(count & 0xff));
    zip.U8(static_cast<uint8_t>(count >> 8));
  }
  zip.U32(directory_size);
  zip.U32(directory_offset);
  zip.U8(0);  // comment length
  zip.U8(0);
  return zip.Take();
}

}  // namespace deepsweep::client
