// The little-endian byte codec and the CRC-32 the snapshot format rests on.
#include "common/byte_codec.h"

#include <cmath>
#include <vector>

#include "common/crc32.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

TEST(Crc32, MatchesTheStandardCheckValueAndComposes) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("6789", Crc32("12345")), Crc32("123456789"));
}

TEST(ByteCodec, WritesLittleEndianAndReadsItBack) {
  ByteWriter w;
  w.U32(0x01020304);
  w.U64(0x1122334455667788ULL);
  w.F64(-2.5);
  w.String("ab");
  const std::vector<float> floats = {1.0f, -0.0f, std::nanf("")};
  w.F32Array(floats);
  const std::string bytes = w.Take();
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(bytes.substr(4, 8), std::string("\x88\x77\x66\x55\x44\x33\x22\x11", 8));
  ByteReader r(bytes, "test");
  EXPECT_EQ(r.U32(), 0x01020304u);
  EXPECT_EQ(r.U64(), 0x1122334455667788ULL);
  EXPECT_EQ(r.F64(), -2.5);
  EXPECT_EQ(r.String(), "ab");
  std::vector<float> back;
  r.F32Array(back);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_TRUE(std::signbit(back[1]));
  EXPECT_TRUE(std::isnan(back[2]));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteCodec, ReadsPastTheEndOrHugeCountsFailWithoutAllocating) {
  ByteWriter w;
  w.U64(uint64_t{1} << 60);  // a count no input can hold
  const std::string bytes = w.Take();
  ByteReader r(bytes, "snapshot");
  std::vector<float> out;
  r.F32Array(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("snapshot: count"), std::string::npos) << r.status();
  EXPECT_EQ(r.U32(), 0u);  // sticky
  ByteReader short_input(std::string_view("abc"), "x");
  EXPECT_EQ(short_input.U32(), 0u);
  EXPECT_NE(short_input.status().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace deepsweep
