#include "ml/data/cifar.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ml/data/file_bytes.h"

namespace deepsweep::ml {
namespace {

constexpr int kCifarClasses = 10;
constexpr int kTrainingBatches = 5;

std::string BatchName(int index) { return absl::StrCat("data_batch_", index, ".bin"); }

// `dir` itself when it holds test_batch.bin, else the archive's sub-folder
// when that does.
std::filesystem::path ResolveCifarDir(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path base(dir);
  if (std::filesystem::exists(base / "test_batch.bin", ec)) return base;
  const std::filesystem::path nested = base / "cifar-10-batches-bin";
  if (std::filesystem::exists(nested / "test_batch.bin", ec)) return nested;
  return base;
}

}  // namespace

absl::Status AppendCifarBatch(const std::string& path, ImageTable& table) {
  ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadFileBytes(path));
  return AppendCifarRecords(path, bytes, table);
}

absl::Status AppendCifarRecords(const std::string& path, const std::vector<uint8_t>& bytes,
                                ImageTable& table) {
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(path, ": empty file, no records"));
  if (bytes.size() % kCifarRecordBytes != 0) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: ", bytes.size(),
                                            " bytes is not a whole number of ", kCifarRecordBytes,
                                            "-byte records"));
  }
  const int64_t records = static_cast<int64_t>(bytes.size() / kCifarRecordBytes);
  const int64_t image_bytes = kCifarRecordBytes - 1;
  const int64_t first = table.count();
  table.labels.reserve(first + records);
  table.pixels.reserve((first + records) * image_bytes);
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = bytes.data() + r * kCifarRecordBytes;
    if (record[0] >= kCifarClasses) {
      table.labels.resize(first);
      table.pixels.resize(first * image_bytes);
      return absl::DataLossError(absl::StrCat(path, ": label ", record[0], " of record ", r,
                                              " is out of range [0, ", kCifarClasses, ")"));
    }
    table.labels.push_back(record[0]);
    table.pixels.insert(table.pixels.end(), record + 1, record + kCifarRecordBytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<RawImageSet> LoadCifar10(const std::string& dir) {
  const std::filesystem::path root = ResolveCifarDir(dir);
  RawImageSet set;
  set.name = "cifar10";
  set.class_names = Cifar10ClassNames();
  const ImageShape shape{.rows = kCifarSide, .cols = kCifarSide, .channels = 3};
  set.train.shape = shape;
  set.test.shape = shape;
  for (int b = 1; b <= kTrainingBatches; ++b) {
    RETURN_IF_ERROR(AppendCifarBatch((root / BatchName(b)).string(), set.train));
  }
  RETURN_IF_ERROR(AppendCifarBatch((root / "test_batch.bin").string(), set.test));
  return set;
}

std::vector<std::string> Cifar10ClassNames() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

}  // namespace deepsweep::ml
