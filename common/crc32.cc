#include "common/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>

namespace deepsweep {

uint32_t Crc32(std::string_view bytes, uint32_t crc) {
  // zlib takes uInt lengths; 1 GiB pieces stay well inside them.
  constexpr size_t kPiece = size_t{1} << 30;
  uLong value = crc;
  for (size_t at = 0; at < bytes.size(); at += kPiece) {
    const size_t n = std::min(kPiece, bytes.size() - at);
    value = crc32(value, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(value);
}

}  // namespace deepsweep
