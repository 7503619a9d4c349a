#include "client/format.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

Table SampleTable() {
  Table table({{"id"}, {"activation"}, {"test_error", 3}, {"note"}});
  table.AddRow({int64_t{1}, std::string("tanh"), 0.12345, std::string("plain")});
  table.AddRow({int64_t{12}, std::string("softsign"), Value{}, std::string("a, \"quoted\"\nline")});
  return table;
}

std::string Render(const Table& table, OutputFormat format) {
  std::ostringstream out;
  WriteTable(table, format, out);
  return out.str();
}

TEST(ParseOutputFormatTest, KnownAndUnknown) {
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  auto bad = ParseOutputFormat("xml");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("xml"), std::string::npos);
}

TEST(WriteTableTest, TextAlignsNumbersRightAndTextLeft) {
  Table table({{"id"}, {"activation"}, {"test_error", 3}});
  table.AddRow({int64_t{1}, std::string("tanh"), 0.12345});
  table.AddRow({int64_t{12}, std::string("softsign"), Value{}});
  table.AddRow({int64_t{3}, std::string("±σ"), 1e-5});
  EXPECT_EQ(Render(table, OutputFormat::kTable),
            "id  activation  test_error\n"
            " 1  tanh             0.123\n"
            "12  softsign             -\n"
            " 3  ±σ               1e-05\n");
}

TEST(WriteTableTest, TextShowsControlCharactersEscaped) {
  EXPECT_EQ(TerminalSafe("red\x1b[31m\rbell\a\x7f \xcf\x83"),
            "red\\x1b[31m\\x0dbell\\x07\\x7f \xcf\x83");
  Table table({{"name"}});
  table.AddRow({std::string("evil\x1b[2J")});
  EXPECT_EQ(Render(table, OutputFormat::kTable), "name\nevil\\x1b[2J\n");
}

TEST(WriteTableTest, CsvQuotesOnlyWhenNeeded) {
  EXPECT_EQ(Render(SampleTable(), OutputFormat::kCsv),
            "id,activation,test_error,note\n"
            "1,tanh,0.12345,plain\n"
            "12,softsign,,\"a, \"\"quoted\"\"\n"
            "line\"\n");
}

TEST(WriteTableTest, JsonIsAnArrayOfObjects) {
  EXPECT_EQ(Render(SampleTable(), OutputFormat::kJson),
            "[\n"
            "  {\n"
            "    \"id\": 1,\n"
            "    \"activation\": \"tanh\",\n"
            "    \"test_error\": 0.12345,\n"
            "    \"note\": \"plain\"\n"
            "  },\n"
            "  {\n"
            "    \"id\": 12,\n"
            "    \"activation\": \"softsign\",\n"
            "    \"test_error\": null,\n"
            "    \"note\": \"a, \\\"quoted\\\"\\nline\"\n"
            "  }\n"
            "]\n");
}

TEST(WriteTableTest, EmptyTableKeepsHeader) {
  Table table({{"id"}, {"state"}});
  EXPECT_EQ(Render(table, OutputFormat::kTable), "id  state\n");
  EXPECT_EQ(Render(table, OutputFormat::kCsv), "id,state\n");
  EXPECT_EQ(Render(table, OutputFormat::kJson), "[]\n");
}

TEST(FormatShortestTest, RoundTripsExactly) {
  EXPECT_EQ(FormatShortest(0.1), "0.1");
  EXPECT_EQ(FormatShortest(1e-5), "1e-05");
  EXPECT_EQ(FormatShortest(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(FormatShortest(2.0), "2");
  EXPECT_EQ(FormatShortest(-0.5), "-0.5");
  for (double v : {1.0 / 3, 12345.6789e-200, 5e-324}) {
    const std::string text = FormatShortest(v);
    double back = 0;
    std::from_chars(text.data(), text.data() + text.size(), back);
    EXPECT_EQ(back, v) << text;
  }
}

TEST(FormatSignificantTest, GStyle) {
  EXPECT_EQ(FormatSignificant(0.123456, 4), "0.1235");
  EXPECT_EQ(FormatSignificant(12345678, 4), "1.235e+07");
  EXPECT_EQ(FormatSignificant(0.01, 4), "0.01");
}

TEST(CsvFieldTest, Quoting) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField(""), "");
}

TEST(JsonStringTest, Escapes) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(JsonString("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(JsonString(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(JsonString(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(JsonString("ünï ±"), "\"ünï ±\"");
  EXPECT_EQ(JsonString("/"), "\"/\"");
}

TEST(JsonWriterTest, CompactNesting) {
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject()
      .Key("n")
      .Int(3)
      .Key("values")
      .BeginArray()
      .Number(0.5)
      .Number(std::numeric_limits<double>::quiet_NaN())
      .Number(INFINITY)
      .EndArray()
      .Key("empty")
      .BeginObject()
      .EndObject()
      .Key("ok")
      .Bool(true)
      .Key("none")
      .Null()
      .EndObject();
  EXPECT_EQ(out.str(), R"({"n":3,"values":[0.5,null,null],"empty":{},"ok":true,"none":null})");
}

TEST(JsonWriterTest, IndentedNesting) {
  std::ostringstream out;
  JsonWriter json(out, 2);
  json.BeginObject()
      .Key("a")
      .BeginArray()
      .Int(1)
      .Int(2)
      .EndArray()
      .Key("b")
      .String("x")
      .EndObject();
  EXPECT_EQ(out.str(),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"b\": \"x\"\n"
            "}");
}

}  // namespace
}  // namespace deepsweep::client
