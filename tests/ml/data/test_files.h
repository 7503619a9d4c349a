// Small files that the data tests write themselves: plain or gzip-compressed
// (with zlib), in a fresh directory per test.
#ifndef DEEPSWEEP_TESTS_ML_DATA_TEST_FILES_H_
#define DEEPSWEEP_TESTS_ML_DATA_TEST_FILES_H_

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deepsweep::ml::testing {

using Bytes = std::vector<uint8_t>;

// A new empty directory under the test temp dir, named after the running test.
inline std::filesystem::path FreshTestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "ds_ml_data" /
                              (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void WritePlain(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void WriteGzip(const std::filesystem::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

inline Bytes ReadPlain(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void AppendBigEndian32(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(value >> shift));
}

// An IDX image file: magic 0x00000803, dims (count, rows, cols), pixel i of
// image n = (n * 7 + i) % 256.
inline Bytes IdxImages(uint32_t count, uint32_t rows, uint32_t cols) {
  Bytes bytes;
  AppendBigEndian32(bytes, 0x00000803);
  AppendBigEndian32(bytes, count);
  AppendBigEndian32(bytes, rows);
  AppendBigEndian32(bytes, cols);
  for (uint32_t n = 0; n < count; ++n) {
    for (uint32_t i = 0; i < rows * cols; ++i)
      bytes.push_back(static_cast<uint8_t>((n * 7 + i) % 256));
  }
  return bytes;
}

// An IDX label file: magic 0x00000801, labels as given.
inline Bytes IdxLabels(const std::vector<uint8_t>& labels) {
  Bytes bytes;
  AppendBigEndian32(bytes, 0x00000801);
  AppendBigEndian32(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// Labels 0, 1, ..., num_classes - 1, 0, 1, ... for `count` examples.
inline std::vector<uint8_t> CyclicLabels(int count, int num_classes) {
  std::vector<uint8_t> labels;
  for (int i = 0; i < count; ++i) labels.push_back(static_cast<uint8_t>(i % num_classes));
  return labels;
}

}  // namespace deepsweep::ml::testing

#endif  // DEEPSWEEP_TESTS_ML_DATA_TEST_FILES_H_
