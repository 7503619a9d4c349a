// ByteWriter / ByteReader: explicit little-endian binary layouts (snapshots,
// exported arrays), independent of the host's byte order.
//
// Layout of each value: unsigned and signed integers as 1, 4 or 8 bytes,
// least significant first (signed in two's complement); float and double as
// their IEEE-754 bit patterns written as a u32 / u64; a string or array as its
// element count (u64) followed by the elements.
//
// ByteReader is sticky: the first read past the end (or an array whose count
// cannot fit in what is left) sets an error; later reads return zeros and
// status() names the first failure and its offset. Callers check status()
// once after a group of reads; sizes are bounds-checked before any allocation,
// so damaged input never makes the reader allocate more than it holds.
//
// Thread-safety: values used by one thread.
#ifndef DEEPSWEEP_COMMON_BYTE_CODEC_H_
#define DEEPSWEEP_COMMON_BYTE_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace deepsweep {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v);
  void Bool(bool v) { U8(v ? 1 : 0); }
  // Raw bytes, no count.
  void Raw(std::string_view bytes) { out_.append(bytes); }
  // Count then bytes / elements.
  void String(std::string_view s);
  void F32Array(std::span<const float> values);
  void I64Array(std::span<const int64_t> values);

  size_t size() const { return out_.size(); }
  std::string& bytes() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  // `what` names the input in errors ("snapshot"); `bytes` must outlive the reader.
  ByteReader(std::string_view bytes, std::string_view what);

  uint8_t U8();
  uint32_t U32();
  uint64_t U64();
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64();
  bool Bool();
  std::string_view Raw(size_t n);
  std::string String();
  // Reads a count then that many elements into `out` (resized).
  void F32Array(std::vector<float>& out);
  void I64Array(std::vector<int64_t>& out);
  // Reads exactly out.size() floats after a count that must equal it.
  void F32ArrayInto(std::span<float> out);

  // Records an error of the caller's (e.g. a value out of range) at the
  // current offset, unless an earlier one is already recorded.
  void Fail(std::string_view why);

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  size_t offset() const { return at_; }
  size_t remaining() const { return bytes_.size() - at_; }

 private:
  // True when n more bytes are there; otherwise records the error.
  bool Need(size_t n, std::string_view what);
  // Reads an element count that must fit in the rest at `element_size` bytes each.
  uint64_t Count(size_t element_size);
  // Decodes n floats (already bounds-checked) into out.
  void DecodeFloats(uint64_t n, float* out);

  std::string_view bytes_;
  std::string what_;
  size_t at_ = 0;
  absl::Status status_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_BYTE_CODEC_H_
