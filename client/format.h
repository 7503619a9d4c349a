// Output formats of the CLI: an aligned text table for people, CSV and JSON
// for programs.
//
// A command builds a Table (named columns, rows of typed Values) once and
// writes it in whichever OutputFormat the user asked for:
//   table  columns aligned, numbers right-aligned, reals to `precision`
//          significant digits, absent values as "-";
//   csv    RFC 4180 quoting (fields with , " CR or LF are quoted, quotes
//          doubled), "\n" line ends, reals in shortest round-trip form,
//          absent values empty;
//   json   an array of objects keyed by column name, reals in shortest
//          round-trip form, NaN / Inf and absent values as null, lists of
//          reals as arrays.
// JsonWriter is the streaming writer behind the JSON output; commands with
// nested output (summary, status) use it directly.
//
// Thread-safety: values; a JsonWriter belongs to one thread.
#ifndef DEEPSWEEP_CLIENT_FORMAT_H_
#define DEEPSWEEP_CLIENT_FORMAT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace deepsweep::client {

enum class OutputFormat { kTable, kCsv, kJson };

// "table", "csv" or "json"; anything else is INVALID_ARGUMENT.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

// One cell: absent, an integer, a real, text, or a list of reals (e.g. a
// histogram's bins: space-separated in table and CSV, an array in JSON).
using Value = std::variant<std::monostate, int64_t, double, std::string, std::vector<double>>;

struct Column {
  std::string name;
  // Significant digits of reals in the text table (CSV and JSON always keep
  // every digit).
  int precision = 4;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // Precondition: row.size() == columns().size().
  void AddRow(std::vector<Value> row);

  const std::vector<Column>& columns() const { return columns_; }
  const std::vector<std::vector<Value>>& rows() const { return rows_; }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Value>> rows_;
};

void WriteTable(const Table& table, OutputFormat format, std::ostream& out);

class JsonWriter;
// The rows of `table` as a JSON array of objects, into a larger document.
void WriteJsonRows(const Table& table, JsonWriter& json);

// The shortest decimal text that reads back as exactly `value` ("0.1",
// "1e-05", "nan", "inf").
std::string FormatShortest(double value);

// `value` with `digits` significant digits, %g style ("0.1235", "1e-05").
std::string FormatSignificant(double value, int digits);

// `text` with ASCII control characters (ESC, CR, BEL, ...) and DEL shown as
// \xNN, so text from a sweep spec cannot move the cursor or recolour a
// terminal; other bytes (UTF-8) pass through.
std::string TerminalSafe(std::string_view text);

// Quotes `field` for CSV when it needs it.
std::string CsvField(std::string_view field);

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
  JsonWriter& Write(const Value& value);

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

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_FORMAT_H_
