// Reads a whole file into memory, decompressing it when it is gzip-compressed
// (zlib's gzread passes plain files through unchanged).
//
// Errors (the message always names the file):
//   NotFound           the file does not exist;
//   PermissionDenied   it cannot be opened for reading;
//   DataLoss           the gzip stream is corrupt or cut short;
//   ResourceExhausted  the decompressed content exceeds `max_bytes`.
//
// Thread-safety: pure function; safe to call concurrently.
#ifndef DEEPSWEEP_ML_DATA_FILE_BYTES_H_
#define DEEPSWEEP_ML_DATA_FILE_BYTES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace deepsweep::ml {

// Default cap: larger than any dataset file this project reads (CIFAR-10's
// training batches are 30 MiB each, MNIST's largest file 45 MiB).
inline constexpr int64_t kDefaultMaxFileBytes = int64_t{1} << 31;

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path,
                                                   int64_t max_bytes = kDefaultMaxFileBytes);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_FILE_BYTES_H_
