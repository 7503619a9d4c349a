#include "client/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace deepsweep::client {
namespace {

bool IsNumeric(const Value& value) {
  return std::holds_alternative<int64_t>(value) || std::holds_alternative<double>(value);
}

// Width on a terminal, counting UTF-8 code points rather than bytes so that
// "±" takes one column.
size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// A list of reals as space-separated text, each through `format`.
template <typename Format>
std::string ListText(const std::vector<double>& values, Format format) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i)
    absl::StrAppend(&text, i > 0 ? " " : "", format(values[i]));
  return text;
}

std::string TableText(const Value& value, int precision) {
  if (std::holds_alternative<std::monostate>(value)) return "-";
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&value)) return FormatSignificant(*d, precision);
  if (const auto* list = std::get_if<std::vector<double>>(&value)) {
    return ListText(*list, [precision](double v) { return FormatSignificant(v, precision); });
  }
  return TerminalSafe(std::get<std::string>(value));
}

std::string CsvText(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "";
  if (const auto* i = std::get_if<int64_t>(&value)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&value)) return FormatShortest(*d);
  if (const auto* list = std::get_if<std::vector<double>>(&value)) {
    return ListText(*list, [](double v) { return FormatShortest(v); });
  }
  return CsvField(std::get<std::string>(value));
}

void WriteText(const Table& table, std::ostream& out) {
  const std::vector<Column>& columns = table.columns();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) widths[c] = DisplayWidth(columns[c].name);
  for (const std::vector<Value>& row : table.rows()) {
    std::vector<std::string>& texts = cells.emplace_back();
    for (size_t c = 0; c < columns.size(); ++c) {
      texts.push_back(TableText(row[c], columns[c].precision));
      widths[c] = std::max(widths[c], DisplayWidth(texts.back()));
    }
  }
  // A column is right-aligned when every present value in it is a number.
  std::vector<bool> right(columns.size(), false);
  for (size_t c = 0; c < columns.size(); ++c) {
    bool any_number = false;
    bool all_numbers = true;
    for (const std::vector<Value>& row : table.rows()) {
      if (std::holds_alternative<std::monostate>(row[c])) continue;
      any_number = any_number || IsNumeric(row[c]);
      all_numbers = all_numbers && IsNumeric(row[c]);
    }
    right[c] = any_number && all_numbers;
  }
  auto write_line = [&](const std::vector<std::string>& texts) {
    std::string line;
    for (size_t c = 0; c < texts.size(); ++c) {
      const std::string pad(widths[c] - DisplayWidth(texts[c]), ' ');
      if (c > 0) line += "  ";
      line += right[c] ? pad + texts[c] : texts[c] + pad;
    }
    // No trailing blanks: the last column may be left-aligned and padded.
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(column.name);
  write_line(header);
  for (const std::vector<std::string>& texts : cells) write_line(texts);
}

void WriteCsv(const Table& table, std::ostream& out) {
  const std::vector<Column>& columns = table.columns();
  for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << CsvField(columns[c].name);
  out << '\n';
  for (const std::vector<Value>& row : table.rows()) {
    for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << CsvText(row[c]);
    out << '\n';
  }
}

void WriteJson(const Table& table, std::ostream& out) {
  JsonWriter json(out, 2);
  WriteJsonRows(table, json);
  out << '\n';
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat("unknown output format '", std::string(name),
                                                 "' (expected table, csv or json)"));
}

Value ToValue(const TrialFieldValue& field) {
  return std::visit([](const auto& v) -> Value { return v; }, field);
}

void Table::AddRow(std::vector<Value> row) { rows_.push_back(std::move(row)); }

void WriteTable(const Table& table, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kTable:
      return WriteText(table, out);
    case OutputFormat::kCsv:
      return WriteCsv(table, out);
    case OutputFormat::kJson:
      return WriteJson(table, out);
  }
}

void WriteJsonRows(const Table& table, JsonWriter& json) {
  json.BeginArray();
  for (const std::vector<Value>& row : table.rows()) {
    json.BeginObject();
    for (size_t c = 0; c < row.size(); ++c)
      WriteJsonValue(row[c], json.Key(table.columns()[c].name));
    json.EndObject();
  }
  json.EndArray();
}

std::string FormatSignificant(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

std::string TerminalSafe(std::string_view text) {
  std::string safe;
  safe.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppend(&safe, absl::StrFormat("\\x%02x", byte));
    } else {
      safe.push_back(c);
    }
  }
  return safe;
}

std::string UtcTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string CsvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void WriteJsonValue(const Value& value, JsonWriter& json) {
  if (std::holds_alternative<std::monostate>(value)) {
    json.Null();
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    json.Int(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    json.Number(*d);
  } else if (const auto* list = std::get_if<std::vector<double>>(&value)) {
    json.BeginArray();
    for (double v : *list) json.Number(v);
    json.EndArray();
  } else {
    json.String(std::get<std::string>(value));
  }
}

}  // namespace deepsweep::client
