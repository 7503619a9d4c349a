#include "rpc/read_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::rpc {
namespace {

std::filesystem::path TempPath(const std::string& name) {
  return std::filesystem::path(::testing::TempDir()) / name;
}

TEST(ReadFileTest, ReadsTheWholeFile) {
  const auto path = TempPath("read_file_test.pem");
  std::ofstream(path) << "-----BEGIN-----\nabc\n";
  absl::StatusOr<std::string> contents = ReadFileContents(path.string(), "test file");
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "-----BEGIN-----\nabc\n");
}

TEST(ReadFileTest, MissingFileIsNotFoundAndNamed) {
  absl::StatusOr<std::string> contents =
      ReadFileContents(TempPath("no_such_file").string(), "TLS key");
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(contents.status().message(), ::testing::HasSubstr("TLS key"));
  EXPECT_THAT(contents.status().message(), ::testing::HasSubstr("no_such_file"));
}

TEST(ReadFileTest, EmptyFileOrDirectoryIsRejected) {
  const auto path = TempPath("read_file_test_empty");
  std::ofstream(path).flush();
  EXPECT_EQ(ReadFileContents(path.string(), "token file").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ReadFileContents(::testing::TempDir(), "token file").ok());
}

}  // namespace
}  // namespace deepsweep::rpc
