#include "zcpipe/stages/csv.h"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "csv_harness.h"

namespace zcpipe::stages {
namespace {

using ::testing::ElementsAre;
using Rows = std::vector<std::vector<std::string>>;
using testing::ParseCsv;

CsvOptions WithSchema(const std::string& schema, bool header = true) {
  return {.delimiter = ',', .header = header, .schema = Schema::Parse(schema)};
}

TEST(Csv, Rfc4180QuotingDelimitersDoubledQuotesAndNewlines) {
  const auto parsed = ParseCsv(
      "id,text\n"
      "1,plain\n"
      "2,\"with, comma\"\n"
      "3,\"say \"\"hi\"\"\"\n"
      "4,\"two\nlines\"\n"
      "5,\"\"\n"
      "6,\n",
      WithSchema("id:int64,text:string"));
  EXPECT_TRUE(parsed.rejected.empty());
  EXPECT_EQ(parsed.rows, (Rows{{"1", "plain"},
                               {"2", "with, comma"},
                               {"3", "say \"hi\""},
                               {"4", "two\nlines"},
                               {"5", ""},
                               {"6", "<null>"}}));
  EXPECT_THAT(parsed.lines, ElementsAre(2, 3, 4, 5, 7, 8));  // row 4 spans lines 5-6
}

TEST(Csv, CrlfBomBlankLinesAndAMissingFinalNewline) {
  const auto parsed = ParseCsv("\xEF\xBB\xBFid,name\r\n1,a\r\n\r\n2,\"b\r\nc\"\r\n3,d",
                               WithSchema("id:int64,name"));
  EXPECT_TRUE(parsed.rejected.empty());
  EXPECT_EQ(parsed.rows, (Rows{{"1", "a"}, {"2", "b\r\nc"}, {"3", "d"}}));
  EXPECT_THAT(parsed.lines, ElementsAre(2, 4, 6));
}

TEST(Csv, OtherDelimitersAndNoHeader) {
  const auto parsed =
      ParseCsv("1;x;2.5\n2;\"y;z\";-1e3\n",
               {.delimiter = ';', .header = false, .schema = Schema::Parse("a:int64,b,c:float64")});
  EXPECT_EQ(parsed.rows, (Rows{{"1", "x", "2.5"}, {"2", "y;z", "-1000"}}));
  const auto tabs = ParseCsv("a\tb\n1\t2\n", {.delimiter = '\t', .header = true, .schema = {}});
  EXPECT_EQ(tabs.schema.ToString(), "a:int64,b:int64");
}

TEST(Csv, ExplicitSchemaPicksColumnsByNameInItsOwnOrder) {
  const auto parsed = ParseCsv("a,b,c\n1,2,3\n", WithSchema("c:int64,a:string"));
  EXPECT_EQ(parsed.rows, (Rows{{"3", "1"}}));
  EXPECT_THROW(ParseCsv("a,b\n1,2\n", WithSchema("zz:int64")), std::invalid_argument);
}

TEST(Csv, InfersTypesFromTheFirstChunk) {
  const auto parsed = ParseCsv(
      "i,f,b,t,s,e\n"
      "1,1.5,true,2024-03-01T10:00:00Z,x,\n"
      "-2,3,false,2024-03-02T00:00:00+01:00,7,\n");
  EXPECT_EQ(parsed.schema.ToString(), "i:int64,f:float64,b:bool,t:timestamp,s:string,e:string");
  EXPECT_EQ(parsed.rows[0][3], "1709287200000000");
}

// Issue 22: an inferred type keeps every value, or the column is string: leading zeros are
// an identifier's, an integer beyond int64 or a decimal a double would round is no number, nan
// and inf are no float64, a fraction finer than microseconds no timestamp, yes or t no bool.
// Values that only change spelling (4196.10 as 4196.1, +7 as 7, TRUE as true) keep the type.
TEST(Csv, InferenceKeepsEveryValue) {
  const auto parsed = ParseCsv(
      "zip,phone,big,huge,round,nan,ns,yes,f,i,b,t\n"
      "00123,0049301234567,1,1.5,0.5,1.5,2024-03-01T12:00:00Z,true,4196.10,+7,TRUE,"
      "2024-03-01T12:00:00.123456000Z\n"
      "123,49301234567,9223372036854775808,99999999999999999999999,9007199254740993,nan,"
      "2024-03-01T12:00:00.123456789Z,yes,-0.5,-9223372036854775808,false,2024-03-01T00:00:00Z\n"
      "1,1,1,1,0.10000000000000001,inf,,t,1e3,0,False,\n");
  EXPECT_EQ(parsed.schema.ToString(),
            "zip:string,phone:string,big:string,huge:string,round:string,nan:string,ns:string,"
            "yes:string,f:float64,i:int64,b:bool,t:timestamp");
  EXPECT_TRUE(parsed.rejected.empty());
  ASSERT_EQ(parsed.rows.size(), 3u);
  EXPECT_EQ(parsed.rows[0][0], "00123");
  EXPECT_EQ(parsed.rows[0][1], "0049301234567");
  EXPECT_EQ(parsed.rows[1][2], "9223372036854775808");
  EXPECT_EQ(parsed.rows[1][4], "9007199254740993");
  EXPECT_EQ(parsed.rows[1][6], "2024-03-01T12:00:00.123456789Z");
  EXPECT_EQ(parsed.rows[2][7], "t");
}

// Issue 25: a column of dates is date, of local times (no zone) datetime, of instants (Z or an
// offset) timestamp; a column mixing them is string (a date is no midnight UTC, a local time
// no UTC time), and so is one with an impossible date.
TEST(Csv, InfersDatesLocalTimesAndInstantsApart) {
  const auto parsed = ParseCsv(
      "d,local,at,d_and_local,local_and_at,feb30,zip\n"
      "2012-01-01,2010-01-01T01:00:00,2010-01-01T01:00:00Z,2012-01-01,2010-01-01T01:00:00,"
      "2012-02-28,00501\n"
      "2016-02-29,2010-01-01 01:00:00.5,2010-01-01T01:00:00+02:00,2012-01-01T00:00:00,"
      "2010-01-01T01:00:00Z,2012-02-30,09005\n");
  EXPECT_EQ(parsed.schema.ToString(),
            "d:date,local:datetime,at:timestamp,d_and_local:string,local_and_at:string,"
            "feb30:string,zip:string");
  EXPECT_TRUE(parsed.rejected.empty());
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_EQ(parsed.rows[0][0], "15340");             // days since 1970-01-01
  EXPECT_EQ(parsed.rows[1][1], "1262307600500000");  // microseconds of the local time
  EXPECT_EQ(parsed.rows[1][2], "1262300400000000");  // 2009-12-31T23:00:00Z
  EXPECT_EQ(parsed.rows[1][3], "2012-01-01T00:00:00");
  EXPECT_EQ(parsed.rows[1][6], "09005");
}

// Issue 22: a declared type rejects a value it would change, with a reason and why; it never
// rounds. Values it holds exactly in another spelling (007, +7, 1.50) are taken.
TEST(Csv, ADeclaredTypeRejectsAValueItWouldChange) {
  const std::string text =
      "i,f,t\n"
      "007,1.50,2024-03-01T12:00:00.123456000+01:00\n"  // line 2: fine
      "9223372036854775808,1,2024-03-01\n"              // line 3: int64 overflow
      "1,0.10000000000000001,2024-03-01\n"              // line 4: float64 would round
      "1,9007199254740993,2024-03-01\n"                 // line 5
      "1,nan,2024-03-01\n"                              // line 6: not finite
      "1,-inf,2024-03-01\n"                             // line 7
      "1,1e400,2024-03-01\n"                            // line 8
      "1,1,2024-03-01T12:00:00.123456789Z\n"            // line 9: nanoseconds
      "1,1,\"2016-12-31 23:59:60Z\"\n"                  // line 10: leap second
      "1,1,0000-01-01T00:00:00+00:01\n";                // line 11: before year 0000
  const auto parsed = ParseCsv(text, WithSchema("i:int64,f:float64,t:timestamp"));
  EXPECT_EQ(parsed.rows, (Rows{{"7", "1.5", "1709290800123456"}}));
  const std::vector<std::string> expected = {
      "line 3 (byte 51): bad int64 in column 'i': \"9223372036854775808\" (beyond int64)",
      "line 4 (byte 84): bad float64 in column 'f': \"0.10000000000000001\" (float64 would make "
      "it 0.1)",
      "line 5 (byte 117): bad float64 in column 'f': \"9007199254740993\" (float64 would make it "
      "9007199254740992)",
      "line 6 (byte 147): bad float64 in column 'f': \"nan\" (float64 holds finite numbers only)",
      "line 7 (byte 164): bad float64 in column 'f': \"-inf\" (float64 holds finite numbers only)",
      "line 8 (byte 182): bad float64 in column 'f': \"1e400\" (beyond float64)",
      "line 9 (byte 201): bad timestamp in column 't': \"2024-03-01T12:00:00.123456789Z\" "
      "(timestamps hold microseconds)",
      "line 10 (byte 236): bad timestamp in column 't': \"\"2016-12-31 23:59:60Z\"\" (no leap "
      "seconds)",
      "line 11 (byte 263): bad timestamp in column 't': \"0000-01-01T00:00:00+00:01\" (outside "
      "years 0000-9999)"};
  ASSERT_EQ(parsed.rejected.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parsed.rejected[i].Describe(), expected[i]);
    EXPECT_EQ(text.substr(parsed.rejected[i].byte_offset, parsed.rejected[i].raw.size()),
              parsed.rejected[i].raw);
  }
}

// Every malformed case: the exact reason, line and byte offset, and no row lost.
TEST(Csv, MalformedRowsAreRejectedWithLineOffsetAndReason) {
  const std::string text =
      "id,amount,ok,at,name\n"                  // line 1, byte 0
      "1,2.5,true,2024-01-01,ok\n"              // line 2, byte 21
      "2,2.5,true,2024-01-01\n"                 // line 3, byte 46: field count
      "x3,2.5,true,2024-01-01,a\n"              // line 4, byte 68: bad int
      "4,2.5.1,true,2024-01-01,a\n"             // line 5, byte 93: bad float
      "5,1,maybe,2024-01-01,a\n"                // line 6, byte 119: bad bool
      "6,1,true,2024-13-01,a\n"                 // line 7, byte 142: bad date
      "7,1,true,2024-01-01,\xff\xfe\n"          // line 8, byte 164: invalid UTF-8
      "8,1,true,2024-01-01,a\"b\n"              // line 9, byte 187: a quote as text
      "9,1,true,2024-01-01,\"a\"b\n"            // line 10, byte 211: text after quote
      "10,1,true,2024-01-01,fine\n"             // line 11, byte 236
      "11,1,true,2024-01-01,\"never closed\n";  // line 12, byte 262: unterminated
  const auto parsed = ParseCsv(text, WithSchema("id:int64,amount:float64,ok:bool,at:date,name"));
  ASSERT_EQ(parsed.rejected.size(), 8u);
  const std::vector<std::tuple<InputErrc, std::uint64_t, std::uint64_t, std::string>> expected = {
      {InputErrc::kFieldCount, 3, 46, ""},
      {InputErrc::kBadInt64, 4, 68, "id"},
      {InputErrc::kBadFloat64, 5, 93, "amount"},
      {InputErrc::kBadBool, 6, 119, "ok"},
      {InputErrc::kBadDate, 7, 142, "at"},
      {InputErrc::kInvalidUtf8, 8, 164, "name"},
      {InputErrc::kStrayQuote, 10, 211, "name"},
      {InputErrc::kUnterminatedQuote, 12, 262, ""}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [reason, line, offset, column] = expected[i];
    const auto& error = parsed.rejected[i];
    EXPECT_EQ(error.reason, reason) << i << ": " << error.Describe();
    EXPECT_EQ(error.line, line) << error.Describe();
    EXPECT_EQ(error.byte_offset, offset) << error.Describe();
    EXPECT_EQ(error.column, column) << error.Describe();
    EXPECT_EQ(text.substr(error.byte_offset, error.raw.size()), error.raw);
  }
  EXPECT_EQ(parsed.rejected[1].Describe(), "line 4 (byte 68): bad int64 in column 'id': \"x3\"");
  EXPECT_EQ(parsed.rows, (Rows{{"1", "2.5", "true", "19723", "ok"},
                               {"8", "1", "true", "19723", "a\"b"},
                               {"10", "1", "true", "19723", "fine"}}));
  const std::size_t rows_in = 11;  // data records in the text
  EXPECT_EQ(rows_in, parsed.rows.size() + parsed.rejected.size());
}

TEST(Csv, ABlockTooSmallForTheChunkSplitsItWithoutLosingRows) {
  std::string text = "id,name\n";
  for (int i = 0; i < 2000; ++i) text += std::to_string(i) + ",name-" + std::to_string(i) + "\n";
  const auto whole = ParseCsv(text, {}, 1 << 20, 1 << 20);
  const auto split = ParseCsv(text, {}, 1 << 20, 16 << 10);  // output batches of 16 KiB
  EXPECT_EQ(whole.rows.size(), 2000u);
  EXPECT_EQ(split.rows, whole.rows);
  EXPECT_EQ(split.lines, whole.lines);
}

TEST(Csv, ARecordLargerThanABlockIsRejectedAndTheRestImported) {
  std::string text = "id,name\n1,a\n2,\"" + std::string(10000, 'x') + "\"\n3,c\n";
  const auto parsed = ParseCsv(text, WithSchema("id:int64,name"), 4096, 8192);
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].reason, InputErrc::kRecordTooLarge);
  EXPECT_EQ(parsed.rejected[0].line, 3u);
  EXPECT_EQ(parsed.rejected[0].byte_offset, 12u);
  EXPECT_EQ(parsed.rows, (Rows{{"1", "a"}, {"3", "c"}}));
}

// Random CSV parsed with random chunk sizes gives the same rows, lines and errors as one chunk.
TEST(Csv, AnyChunkingGivesTheSameResultAsOneChunk) {
  std::mt19937 random(2024);
  const std::vector<std::string> pieces = {"a",    "b c", ",",    "\"", "\"\"", "\n",
                                           "\r\n", "12",  "-3.5", "é",  " "};
  for (int round = 0; round < 60; ++round) {
    std::string text = "x,y,z\n";
    const int rows = 1 + static_cast<int>(random() % 60);
    for (int r = 0; r < rows; ++r) {
      for (int f = 0; f < 3; ++f) {
        if (f > 0) text += ',';
        const bool quoted = random() % 3 == 0;
        if (quoted) text += '"';
        std::string field;
        for (int k = static_cast<int>(random() % 4); k > 0; --k) {
          std::string piece = pieces[random() % pieces.size()];
          if (!quoted && (piece == "," || piece == "\n" || piece == "\r\n")) piece = "n";
          if (quoted && piece == "\"") piece = "\"\"";  // unquoted: a stray quote, rejected
          field += piece;
        }
        if (!quoted && field.starts_with('"')) field.insert(0, "u");  // else it opens a quote
        text += field;
        if (quoted) text += '"';
      }
      text += random() % 2 ? "\n" : "\r\n";
    }
    const auto options = WithSchema("x,y,z");
    const auto whole = ParseCsv(text, options, 1 << 20);
    const auto chunked = ParseCsv(text, options, 1 + random() % 64, 1 << 20);
    ASSERT_EQ(chunked.rows, whole.rows) << "round " << round << "\n" << text;
    ASSERT_EQ(chunked.lines, whole.lines) << "round " << round;
    ASSERT_EQ(chunked.rejected.size(), whole.rejected.size()) << "round " << round;
    EXPECT_EQ(whole.rows.size() + whole.rejected.size(), static_cast<std::size_t>(rows));
  }
}

}  // namespace
}  // namespace zcpipe::stages
