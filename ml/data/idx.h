// Reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or
// plain). An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte,
// the only type read here), a byte with the number of dimensions, then each
// dimension as a big-endian 32-bit integer, then the data in row-major order.
// Image files have 3 dimensions (count, rows, cols), label files 1 (count).
//
// Errors name the file and the fault:
//   NotFound          a file is missing (the message lists the names tried);
//   InvalidArgument   wrong magic number (not an IDX file of the expected
//                     kind), image and label counts differ, training and test
//                     images differ in size;
//   DataLoss          data cut short or followed by extra bytes, a label out
//                     of range, unreadable gzip data.
//
// Thread-safety: pure functions; safe to call concurrently.
#ifndef DEEPSWEEP_ML_DATA_IDX_H_
#define DEEPSWEEP_ML_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/data/image_set.h"

namespace deepsweep::ml {

// Reads an image file and its label file into one table; labels must lie in
// [0, num_classes).
absl::StatusOr<ImageTable> ReadIdxImages(const std::string& images_path,
                                         const std::string& labels_path, int num_classes);

// The same over the two files' (decompressed) contents, which is what
// ReadIdxImages does once it has read them; `images_name` and `labels_name`
// name them in messages. The fuzz target tests/fuzz/idx_fuzzer.cc enters here.
absl::StatusOr<ImageTable> ParseIdxImages(const std::string& images_name,
                                          std::vector<uint8_t> image_bytes,
                                          const std::string& labels_name,
                                          const std::vector<uint8_t>& label_bytes, int num_classes);

// Reads the four standard files from `dir`: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
// each either with a ".gz" suffix (preferred when both exist) or without.
absl::StatusOr<RawImageSet> LoadIdxImageSet(const std::string& dir, const std::string& name,
                                            std::vector<std::string> class_names);

// Class names of the two IDX datasets.
std::vector<std::string> MnistClassNames();         // "0" .. "9"
std::vector<std::string> FashionMnistClassNames();  // "T-shirt/top" .. "Ankle boot"

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_IDX_H_
