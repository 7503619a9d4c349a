// Crc32: the CRC-32 (ISO 3309 / zlib's crc32, polynomial 0xEDB88320 reflected)
// of a byte string, the one checksum of snapshots and exported files.
//
// Inputs longer than 4 GiB are fed to zlib in pieces, so any size works.
// Incremental use: Crc32(b, Crc32(a)) == Crc32(a + b).
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_COMMON_CRC32_H_
#define DEEPSWEEP_COMMON_CRC32_H_

#include <cstdint>
#include <string_view>

namespace deepsweep {

// CRC-32 of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_CRC32_H_
