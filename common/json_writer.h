// JSON output: a streaming writer and the literal forms it uses, shared by
// the CLI's JSON output and the web dashboard's API.
//
// Numbers are written in shortest round-trip form; NaN and Inf become null.
// Strings escape ", \ and control characters; other bytes (UTF-8) pass
// through unchanged (the writer does not validate UTF-8).
//
// Thread-safety: a JsonWriter belongs to one thread; the functions are pure.
#ifndef DEEPSWEEP_COMMON_JSON_WRITER_H_
#define DEEPSWEEP_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace deepsweep {

// The shortest decimal text that reads back as exactly `value` ("0.1",
// "1e-05", "nan", "inf").
std::string FormatShortest(double value);

// `text` as a JSON string literal, quotes included, with ", \ and control
// characters escaped; other bytes (UTF-8) pass through.
std::string JsonString(std::string_view text);

// Streaming JSON writer. Calls must form valid JSON (Key only inside objects,
// before each value); the writer inserts commas and, with indent > 0,
// newlines and indentation.
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out, int indent = 0) : out_(out), indent_(indent) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Number(double value);  // NaN and Inf become null
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

 private:
  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);
  void NewLine(size_t depth);

  std::ostream& out_;
  int indent_;
  // Per open object or array: how many elements (or keys) it has so far.
  std::vector<int> scopes_;
  bool after_key_ = false;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_COMMON_JSON_WRITER_H_
