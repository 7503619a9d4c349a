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
// JsonWriter (common/json_writer.h) is the streaming writer behind the JSON
// output; commands with nested output (summary, status) use it directly.
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
#include "absl/time/time.h"
#include "common/json_writer.h"
#include "core/trial_query.h"

namespace deepsweep::client {

enum class OutputFormat { kTable, kCsv, kJson };

// "table", "csv" or "json"; anything else is INVALID_ARGUMENT.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

// One cell: absent, an integer, a real, text, or a list of reals (e.g. a
// histogram's bins: space-separated in table and CSV, an array in JSON).
using Value = std::variant<std::monostate, int64_t, double, std::string, std::vector<double>>;

// A trial field's value (core/trial_query.h) as a cell.
Value ToValue(const TrialFieldValue& field);

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

// The rows of `table` as a JSON array of objects, into a larger document.
void WriteJsonRows(const Table& table, JsonWriter& json);

// One cell as JSON: null, an integer, a number or a string.
void WriteJsonValue(const Value& value, JsonWriter& json);

// `value` with `digits` significant digits, %g style ("0.1235", "1e-05").
std::string FormatSignificant(double value, int digits);

// `text` with ASCII control characters (ESC, CR, BEL, ...) and DEL shown as
// \xNN, so text from a sweep spec cannot move the cursor or recolour a
// terminal; other bytes (UTF-8) pass through.
std::string TerminalSafe(std::string_view text);

// Quotes `field` for CSV when it needs it.
std::string CsvField(std::string_view field);

// `t` in UTC to the second, e.g. "2026-12-03T06:38:03Z".
std::string UtcTimestamp(absl::Time t);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_FORMAT_H_
