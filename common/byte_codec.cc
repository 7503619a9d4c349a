#include "common/byte_codec.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace deepsweep {

void ByteWriter::U32(uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 4);
}

void ByteWriter::U64(uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 8);
}

void ByteWriter::F64(double v) { U64(std::bit_cast<uint64_t>(v)); }

void ByteWriter::String(std::string_view s) {
  U64(s.size());
  out_.append(s);
}

void ByteWriter::F32Array(std::span<const float> values) {
  U64(values.size());
  const size_t start = out_.size();
  out_.resize(start + 4 * values.size());
  char* p = out_.data() + start;
  for (float f : values) {
    const uint32_t v = std::bit_cast<uint32_t>(f);
    p[0] = static_cast<char>(v & 0xff);
    p[1] = static_cast<char>((v >> 8) & 0xff);
    p[2] = static_cast<char>((v >> 16) & 0xff);
    p[3] = static_cast<char>((v >> 24) & 0xff);
    p += 4;
  }
}

void ByteWriter::I64Array(std::span<const int64_t> values) {
  U64(values.size());
  for (int64_t v : values) I64(v);
}

ByteReader::ByteReader(std::string_view bytes, std::string_view what)
    : bytes_(bytes), what_(what) {}

void ByteReader::Fail(std::string_view why) {
  if (status_.ok()) {
    status_ = absl::DataLossError(absl::StrCat(what_, ": ", std::string(why), " at byte ", at_));
  }
}

bool ByteReader::Need(size_t n, std::string_view what) {
  if (!status_.ok()) return false;
  if (n > bytes_.size() - at_) {
    Fail(absl::StrCat("truncated: ", std::string(what), " needs ", n, " bytes, ",
                      bytes_.size() - at_, " left"));
    return false;
  }
  return true;
}

uint8_t ByteReader::U8() {
  if (!Need(1, "u8")) return 0;
  return static_cast<uint8_t>(bytes_[at_++]);
}

uint32_t ByteReader::U32() {
  if (!Need(4, "u32")) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes_[at_ + i])) << (8 * i);
  at_ += 4;
  return v;
}

uint64_t ByteReader::U64() {
  if (!Need(8, "u64")) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[at_ + i])) << (8 * i);
  at_ += 8;
  return v;
}

double ByteReader::F64() { return std::bit_cast<double>(U64()); }

bool ByteReader::Bool() {
  const uint8_t v = U8();
  if (v > 1) Fail(absl::StrCat("bool byte ", v));
  return v == 1;
}

std::string_view ByteReader::Raw(size_t n) {
  if (!Need(n, "bytes")) return {};
  std::string_view out = bytes_.substr(at_, n);
  at_ += n;
  return out;
}

uint64_t ByteReader::Count(size_t element_size) {
  const uint64_t n = U64();
  if (!status_.ok()) return 0;
  if (n > (bytes_.size() - at_) / element_size) {
    Fail(absl::StrCat("count ", n, " of ", element_size, "-byte elements exceeds the ",
                      bytes_.size() - at_, " bytes left"));
    return 0;
  }
  return n;
}

std::string ByteReader::String() { return std::string(Raw(Count(1))); }

void ByteReader::DecodeFloats(uint64_t n, float* out) {
  const char* p = bytes_.data() + at_;
  for (uint64_t i = 0; i < n; ++i, p += 4) {
    const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(p[0])) |
                       static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 8 |
                       static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(p[3])) << 24;
    out[i] = std::bit_cast<float>(v);
  }
  at_ += 4 * n;
}

void ByteReader::F32Array(std::vector<float>& out) {
  const uint64_t n = Count(4);
  out.resize(n);
  DecodeFloats(n, out.data());
}

void ByteReader::F32ArrayInto(std::span<float> out) {
  const uint64_t n = Count(4);
  if (!status_.ok()) return;
  if (n != out.size()) {
    Fail(absl::StrCat("array of ", n, " floats where ", out.size(), " are expected"));
    return;
  }
  DecodeFloats(n, out.data());
}

void ByteReader::I64Array(std::vector<int64_t>& out) {
  const uint64_t n = Count(8);
  out.resize(n);
  for (uint64_t i = 0; i < n; ++i) out[i] = I64();
}

}  // namespace deepsweep
