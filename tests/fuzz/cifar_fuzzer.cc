// Fuzz target: the CIFAR-10 batch reader (ml/data/cifar.h). Input: one batch
// file's bytes, appended to a table that already holds one record, so the
// append path (not only a fresh table) is exercised.
//
// Properties: never crashes; an error is DATA_LOSS and leaves the table as it
// was; a batch read adds size / 3073 records of 3072 bytes, labels in [0, 10).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "ml/data/cifar.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using deepsweep::ml::kCifarRecordBytes;
  using deepsweep::ml::kCifarSide;
  deepsweep::ml::ImageTable table;
  table.shape = {.rows = kCifarSide, .cols = kCifarSide, .channels = 3};
  table.labels = {7};
  table.pixels.assign(kCifarRecordBytes - 1, 0x5a);
  const std::vector<uint8_t> bytes(data, data + size);
  const absl::Status status = deepsweep::ml::AppendCifarRecords("batch", bytes, table);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss, "unexpected error %s",
               status.ToString().c_str());
    FUZZ_CHECK(table.count() == 1 && table.pixels.size() == size_t{kCifarRecordBytes - 1},
               "a failed append changed the table: %lld records, %zu bytes",
               static_cast<long long>(table.count()), table.pixels.size());
    return 0;
  }
  const int64_t records = static_cast<int64_t>(size / kCifarRecordBytes);
  FUZZ_CHECK(size % kCifarRecordBytes == 0 && records > 0, "accepted %zu bytes", size);
  FUZZ_CHECK(table.count() == 1 + records, "%lld records after appending %lld",
             static_cast<long long>(table.count()), static_cast<long long>(records));
  FUZZ_CHECK(table.pixels.size() == static_cast<size_t>(table.count()) * (kCifarRecordBytes - 1),
             "%zu pixel bytes", table.pixels.size());
  for (int64_t r = 0; r < records; ++r) {
    FUZZ_CHECK(table.labels[1 + r] == data[r * kCifarRecordBytes] && table.labels[1 + r] < 10,
               "record %lld: label %d", static_cast<long long>(r), table.labels[1 + r]);
  }
  return 0;
}
