// Fuzz target: the IDX reader (ml/data/idx.h) over an image file and a label
// file. Input: a big-endian 32-bit length n, then n bytes of the image file
// (fewer when the input is shorter), then the label file.
//
// Properties: never crashes; an error is INVALID_ARGUMENT or DATA_LOSS with a
// message; a table read holds count x rows x cols pixel bytes and labels in
// [0, 10).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ml/data/idx.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const size_t announced =
      (size_t{data[0]} << 24) | (size_t{data[1]} << 16) | (size_t{data[2]} << 8) | size_t{data[3]};
  const size_t image_size = std::min(announced, size - 4);
  std::vector<uint8_t> images(data + 4, data + 4 + image_size);
  const std::vector<uint8_t> labels(data + 4 + image_size, data + size);
  constexpr int kClasses = 10;
  const absl::StatusOr<deepsweep::ml::ImageTable> table =
      deepsweep::ml::ParseIdxImages("images", std::move(images), "labels", labels, kClasses);
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == absl::StatusCode::kInvalidArgument ||
                   table.status().code() == absl::StatusCode::kDataLoss,
               "unexpected error %s", table.status().ToString().c_str());
    FUZZ_CHECK(!table.status().message().empty(), "an error without a message");
    return 0;
  }
  const int64_t pixels = int64_t{table->shape.rows} * table->shape.cols * table->shape.channels;
  FUZZ_CHECK(table->shape.rows > 0 && table->shape.cols > 0 && table->shape.channels == 1,
             "shape %dx%dx%d", table->shape.rows, table->shape.cols, table->shape.channels);
  FUZZ_CHECK(static_cast<int64_t>(table->pixels.size()) == table->count() * pixels,
             "%zu pixel bytes for %lld images of %lld", table->pixels.size(),
             static_cast<long long>(table->count()), static_cast<long long>(pixels));
  for (const int32_t label : table->labels) {
    FUZZ_CHECK(label >= 0 && label < kClasses, "label %d", label);
  }
  return 0;
}
