// Reader for CIFAR-10's "binary version": data_batch_1.bin .. data_batch_5.bin
// (training) and test_batch.bin. Each file is a sequence of 3073-byte records:
// one label byte (0..9), then 1024 red, 1024 green and 1024 blue bytes, each
// plane a row-major 32 x 32 image. Files may also be gzip-compressed under the
// same names (zlib reads both).
//
// Errors name the file and the fault:
//   NotFound   a batch file is missing from the directory;
//   DataLoss   a file is empty or not a whole number of records (truncated),
//              a label is out of range, gzip data is unreadable.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef DEEPSWEEP_ML_DATA_CIFAR_H_
#define DEEPSWEEP_ML_DATA_CIFAR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/image_set.h"

namespace deepsweep::ml {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarRecordBytes = 1 + 3 * kCifarSide * kCifarSide;

// Appends the records of one batch file to `table` (whose shape must be
// 32 x 32 x 3).
absl::Status AppendCifarBatch(const std::string& path, ImageTable& table);

// The same over a batch file's (decompressed) contents, which `name` names in
// messages; on an error `table` is left as it was. The fuzz target
// tests/fuzz/cifar_fuzzer.cc enters here.
absl::Status AppendCifarRecords(const std::string& name, const std::vector<uint8_t>& bytes,
                                ImageTable& table);

// Reads the six batch files from `dir`, or from `dir`/cifar-10-batches-bin
// when `dir` does not hold them itself (the layout of the official archive).
absl::StatusOr<RawImageSet> LoadCifar10(const std::string& dir);

// "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
// "ship", "truck".
std::vector<std::string> Cifar10ClassNames();

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_CIFAR_H_
