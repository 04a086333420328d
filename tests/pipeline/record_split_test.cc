// The one record splitter seen from its three users, on the same tricky inputs: the scanner the
// Chunker cuts chunks with (where a chunk may end, which newlines end records), the CSV parser
// (which rows it reads: here every row is rejected, so each shows its raw text, line and
// offset), and SplitRecords (how the coordinator cuts a poison chunk into rows, and reads the
// header it sends workers). They must agree: a row the parser would reject on its own is the
// row a poison chunk reports, and the header a worker reads is the one this process read.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "csv/csv_scan.h"
#include "import_stages.h"
#include "zcpipe/stages/csv.h"

namespace zcpipe::detail {
namespace {

using namespace std::string_literals;

constexpr std::uint64_t kFirstLine = 10;
constexpr std::uint64_t kFirstByte = 1000;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

struct Row {
  std::string raw;
  std::uint64_t line;    // relative to the chunk's first line
  std::uint64_t offset;  // relative to the chunk's first byte
  bool operator==(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Row& row) {
  return out << "{\"" << row.raw << "\", line +" << row.line << ", byte +" << row.offset << "}";
}

struct Case {
  std::string name;
  std::string text;
  std::vector<Row> rows;  // every record, none of them an int64
  std::size_t boundary;   // where a chunk of `text` may end: past its last record's newline
  char delimiter = ',';
  char quote = '"';
  std::uint64_t first_byte = kFirstByte;  // of the chunk in its input
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::span<const std::byte> Bytes(std::string_view text) { return std::as_bytes(std::span(text)); }

std::vector<Row> ParserRows(const Case& c) {
  auto parser = stages::CsvParser::Create(
      {.delimiter = c.delimiter, .header = false, .schema = stages::Schema::Parse("x:int64")},
      {Bytes(c.text), 0, kFirstLine, c.first_byte});
  std::vector<std::uint64_t> block(1 << 14);
  const auto out = parser.Parse({Bytes(c.text), 0, kFirstLine, c.first_byte},
                                std::as_writable_bytes(std::span(block)));
  EXPECT_TRUE(out.has_value());
  if (!out) return {};
  EXPECT_EQ(out->rows_out, 0u) << "a test input holds no int64 row";
  std::vector<Row> rows;
  for (const auto& error : out->rejected) {
    rows.push_back({error.raw, error.line - kFirstLine, error.byte_offset - c.first_byte});
  }
  return rows;
}

std::vector<Row> SplitterRows(const Case& c) {
  std::vector<Row> rows;
  for (const auto& error :
       SplitRecords(Bytes(c.text), c.delimiter, c.quote, kFirstLine, c.first_byte)) {
    EXPECT_EQ(error.reason, stages::InputErrc::kPoison);
    rows.push_back({error.raw, error.line - kFirstLine, error.byte_offset - c.first_byte});
  }
  return rows;
}

// The newlines that end records (or blank lines): every newline outside the rows' own text.
std::vector<std::uint32_t> EndingNewlines(const Case& c) {
  std::vector<std::uint32_t> newlines;
  for (std::uint32_t i = 0; i < c.text.size(); ++i) {
    const bool in_row = std::any_of(c.rows.begin(), c.rows.end(), [&](const Row& row) {
      return i >= row.offset && i < row.offset + row.raw.size();
    });
    if (c.text[i] == '\n' && !in_row) newlines.push_back(i);
  }
  return newlines;
}

// The newlines the scan finds outside quotes, after a byte-order mark at the input's start.
std::vector<std::uint32_t> ScannedNewlines(const Case& c) {
  const std::uint32_t bom = c.first_byte == 0 && c.text.starts_with(kBom) ? 3 : 0;
  std::vector<std::uint32_t> separators;
  stages::detail::FindSeparators(c.text.data() + bom, c.text.size() - bom, c.delimiter, c.quote,
                                 separators);
  std::erase_if(separators, [&](std::uint32_t s) { return c.text[bom + s] != '\n'; });
  for (auto& s : separators) s += bom;
  return separators;
}

// A field that fills bytes up to a 64-byte block edge of the vectorized scan.
std::string Pad(std::size_t n) { return std::string(n, 'p'); }

std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"Empty", "", {}, 0},
      {"CrLf", "a,b\r\nc\r\n", {{"a,b", 0, 0}, {"c", 1, 5}}, 8},
      {"LastRecordWithoutNewline", "a\nb", {{"a", 0, 0}, {"b", 1, 2}}, 2},
      {"LastRecordWithoutNewlineEndsInCr", "a\nb\r", {{"a", 0, 0}, {"b", 1, 2}}, 2},
      {"BlankLinesAreNoRecords", "\n\na\n\r\n\nb\n", {{"a", 2, 2}, {"b", 5, 7}}, 9},
      {"NewlineInsideQuotes", "\"x\ny\",z\r\nw\n", {{"\"x\ny\",z", 0, 0}, {"w", 2, 9}}, 11},
      {"DoubledQuotes",
       "\"a\"\"b\",c\n\"\"\"\"\n",
       {{"\"a\"\"b\",c", 0, 0}, {"\"\"\"\"", 1, 9}},
       14},
      {"DoubledQuoteAcrossNewline", "\"a\"\"\nb\"\nc\n", {{"\"a\"\"\nb\"", 0, 0}, {"c", 2, 8}}, 10},
      {"QuotedFieldAfterAnotherDelimiter",
       "x;\"a\nb\";y\nz\n",
       {{"x;\"a\nb\";y", 0, 0}, {"z", 2, 10}},
       12,
       ';'},
      {"UnterminatedQuoteRunsToTheEnd", "a\n\"b\nc\n", {{"a", 0, 0}, {"\"b\nc\n", 1, 2}}, 2},
      {"EndsOnAClosingQuote", "a\n\"b\nc\"", {{"a", 0, 0}, {"\"b\nc\"", 1, 2}}, 2},
      // Stray quotes (inside an unquoted field, or after a closing one) open nothing: the
      // newline after them ends the record.
      {"StrayQuoteInsideAField", "x 5'11\",y\nz\n", {{"x 5'11\",y", 0, 0}, {"z", 1, 10}}, 12},
      {"StrayQuotesAroundAQuotedNewline",
       "a\"b,\"c\nd\"\ne\n",
       {{"a\"b,\"c\nd\"", 0, 0}, {"e", 2, 10}},
       12},
      {"TextAfterAClosingQuote", "\"a\"b\n\"c\nd\"\n", {{"\"a\"b", 0, 0}, {"\"c\nd\"", 1, 5}}, 11},
      // JSON Lines: no quoting, NUL is a byte like any other.
      {"NoQuoteChar",
       "{\"a\":\"\n\"}\n\0x\nx\0\n"s,
       {{"{\"a\":\"", 0, 0}, {"\"}", 1, 7}, {"\0x"s, 2, 10}, {"x\0"s, 3, 13}},
       16,
       ',',
       '\0'},
      // A byte-order mark at the start of the input is no part of the first record.
      {"ByteOrderMark",
       "\xEF\xBB\xBF\"i\nd\",n\nb\n",
       {{"\"i\nd\",n", 0, 3}, {"b", 2, 11}},
       13,
       ',',
       '"',
       0},
  };
  // Quotes on the edges of the 64-byte blocks the scan works in.
  const std::string open63 = Pad(63) + ",\"q\nq\"\nz\n";  // the opening quote is byte 64
  cases.push_back({"QuoteOpensOnABlockEdge",
                   open63,
                   {{Pad(63) + ",\"q\nq\"", 0, 0}, {"z", 2, 70}},
                   open63.size()});
  const std::string close63 = "\"" + Pad(61) + "\n\"\nz\n";  // the closing quote is byte 63
  cases.push_back({"QuoteClosesOnABlockEdge",
                   close63,
                   {{"\"" + Pad(61) + "\n\"", 0, 0}, {"z", 2, 65}},
                   close63.size()});
  const std::string stray64 = Pad(64) + "\"\nz\"\n";  // a stray quote as byte 64
  cases.push_back({"StrayQuoteOnABlockEdge",
                   stray64,
                   {{Pad(64) + "\"", 0, 0}, {"z\"", 1, 66}},
                   stray64.size()});
  return cases;
}

class RecordSplit : public ::testing::TestWithParam<Case> {};

TEST_P(RecordSplit, ParserAndPoisonSplitReadTheSameRows) {
  const Case& c = GetParam();
  if (c.quote == '"') {  // the CSV parser always quotes with '"'
    EXPECT_EQ(ParserRows(c), c.rows) << "the parser";
  }
  EXPECT_EQ(SplitterRows(c), c.rows) << "SplitRecords";
}

TEST_P(RecordSplit, ChunkerEndsChunksWhereRecordsEnd) {
  const Case& c = GetParam();
  EXPECT_EQ(ScannedNewlines(c), EndingNewlines(c));
  const auto boundary =
      stages::detail::FindBoundary(c.text.data(), c.text.size(), c.delimiter, c.quote);
  EXPECT_EQ(boundary.end, c.boundary);
}

INSTANTIATE_TEST_SUITE_P(Inputs, RecordSplit, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

}  // namespace
}  // namespace zcpipe::detail
