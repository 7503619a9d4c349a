#include "common/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

int calls = 0;

absl::StatusOr<int> Half(int x) {
  ++calls;
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status Check(int x) {
  if (x < 0) return absl::OutOfRangeError("negative");
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int x) {
  RETURN_IF_ERROR(Check(x));
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacros, PropagatesValuesAndErrors) {
  calls = 0;
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(calls, 2);  // each expression evaluated once

  EXPECT_EQ(Quarter(-4).status().code(), absl::StatusCode::kOutOfRange);
  absl::Status odd = Quarter(6).status();  // 6 -> 3 -> odd
  EXPECT_EQ(odd.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.message(), "odd");
}

TEST(StatusMacros, MovesOnlyValues) {
  auto make = []() -> absl::StatusOr<std::unique_ptr<std::string>> {
    return std::make_unique<std::string>("x");
  };
  auto use = [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::unique_ptr<std::string> p, make());
    return *p + "y";
  };
  EXPECT_EQ(*use(), "xy");
}

}  // namespace
}  // namespace deepsweep
