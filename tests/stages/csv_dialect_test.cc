// Issue 25 (items 3 and 4): the CSV dialect sniffed from the first chunk, a quote inside an
// unquoted field read as text, --strict, decimal commas, the unterminated quote's message.
#include "zcpipe/stages/csv_dialect.h"

#include <gtest/gtest.h>

#include "csv_harness.h"
#include "zcpipe/stages/csv.h"

namespace zcpipe::stages {
namespace {

using Rows = std::vector<std::vector<std::string>>;
using testing::ParseCsv;

Chunk ChunkOf(const std::string& text) {
  return {std::as_bytes(std::span(text.data(), text.size())), 0, 1, 0};
}

CsvDialect Sniff(const std::string& text, DialectHints hints = {}) {
  return SniffCsvDialect(ChunkOf(text), hints);
}

// ---- Item 4: a quote opens a quoted field only at the field's start. ----

TEST(Csv, AQuoteInsideAnUnquotedFieldIsText) {
  const auto parsed = ParseCsv(
      "name,height,at\n"
      "bob,5'11\",37°36'37.8\"N\n"
      "ann,\"6'0\"\"\",\"x\"\n",
      {.delimiter = ',', .header = true, .schema = Schema::Parse("name,height,at")});
  EXPECT_TRUE(parsed.rejected.empty()) << parsed.rejected.front().Describe();
  EXPECT_EQ(parsed.rows, (Rows{{"bob", "5'11\"", "37°36'37.8\"N"}, {"ann", "6'0\"", "x"}}));
}

TEST(Csv, StrictRejectsAQuoteInsideAnUnquotedField) {
  const auto parsed =
      ParseCsv("name,height\nbob,5'11\"\nann,6\n", {.delimiter = ',',
                                                    .header = true,
                                                    .schema = Schema::Parse("name,height"),
                                                    .quote = '"',
                                                    .strict = true,
                                                    .decimal_comma = false});
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].reason, InputErrc::kStrayQuote);
  EXPECT_EQ(parsed.rejected[0].line, 2u);
  EXPECT_EQ(parsed.rows, (Rows{{"ann", "6"}}));
}

TEST(Csv, AnUnterminatedQuoteNamesTheQuoteAndTheLineItOpenedOn) {
  // The record starts on line 3; its first quoted field closes on line 4, where its second
  // opens and runs to the end.
  const auto parsed =
      ParseCsv("id,a,b\n1,ok,ok\n2,\"x\ny\",\"opens on line 4\n3,x,y\n",
               {.delimiter = ',', .header = true, .schema = Schema::Parse("id,a,b")});
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].reason, InputErrc::kUnterminatedQuote);
  EXPECT_EQ(parsed.rejected[0].line, 3u);
  EXPECT_EQ(parsed.rejected[0].detail, "the quote \" opened on line 4 is never closed");
  EXPECT_EQ(parsed.rows, (Rows{{"1", "ok", "ok"}}));
}

TEST(Csv, AnUnterminatedQuoteInTheHeaderIsRejectedNotSkipped) {
  const auto parsed =
      ParseCsv("a,\"b\n1,2\n", {.delimiter = ',', .header = true, .schema = Schema::Parse("a")});
  ASSERT_EQ(parsed.rejected.size(), 1u);
  EXPECT_EQ(parsed.rejected[0].reason, InputErrc::kUnterminatedQuote);
  EXPECT_EQ(parsed.rejected[0].detail, "the quote \" opened on line 1 is never closed");
}

TEST(Csv, SingleQuotesQuoteFieldsWhenTheyAreTheQuote) {
  const auto parsed = ParseCsv("id,name\n1,'Smith, John'\n2,'O''Brien'\n3,\"x\"\n",
                               {.delimiter = ',',
                                .header = true,
                                .schema = Schema::Parse("id:int64,name"),
                                .quote = '\'',
                                .strict = false,
                                .decimal_comma = false});
  EXPECT_TRUE(parsed.rejected.empty());
  EXPECT_EQ(parsed.rows, (Rows{{"1", "Smith, John"}, {"2", "O'Brien"}, {"3", "\"x\""}}));
}

// ---- Decimal commas: an option, never a guess. ----

TEST(Csv, WithoutDecimalCommaACommaNumberStaysText) {
  const auto parsed = ParseCsv("id;rate\n1;2,5\n2;3\n", {.delimiter = ';'});
  EXPECT_EQ(parsed.schema.ToString(), "id:int64,rate:string");
  EXPECT_EQ(parsed.rows, (Rows{{"1", "2,5"}, {"2", "3"}}));
}

TEST(Csv, DecimalCommaReadsCommaNumbersAsFloatsAndAPointIsNoDecimal) {
  CsvOptions options{.delimiter = ';'};
  options.decimal_comma = true;
  const auto parsed = ParseCsv("id;rate;code\n1;2,5;1.234\n2;-3;7\n", options);
  EXPECT_EQ(parsed.schema.ToString(), "id:int64,rate:float64,code:string");
  EXPECT_EQ(parsed.rows, (Rows{{"1", "2.5", "1.234"}, {"2", "-3", "7"}}));
}

// ---- Item 3: the sniffer. ----

TEST(CsvSniffer, FindsTabSemicolonAndPipe) {
  for (const char delimiter : {'\t', ';', '|', ','}) {
    std::string text = "id,x\n";
    text = std::string("id") + delimiter + "name" + delimiter + "rate\n";
    for (int i = 0; i < 5; ++i) {
      text += std::to_string(i) + delimiter + "a, b" + delimiter + "2.5\n";
    }
    if (delimiter == ',') text = "id,name,rate\n1,a b,2.5\n2,c;d|e\tf,3.5\n";
    const auto dialect = Sniff(text);
    EXPECT_EQ(dialect.delimiter, delimiter) << DialectCharName(delimiter);
    EXPECT_EQ(dialect.delimiter_source, DialectSource::kSniffed);
    EXPECT_TRUE(dialect.header);
    EXPECT_EQ(dialect.header_source, DialectSource::kSniffed);
    EXPECT_EQ(dialect.quote, '"');
    EXPECT_EQ(dialect.escape, '"');
  }
}

TEST(CsvSniffer, AConsistentSplitBeatsOneWithMoreFields) {
  // ',' splits the decimal commas of the data rows, not the header: inconsistent.
  const auto dialect = Sniff("id;rate\n1;2,5\n2;3,5\n3;4\n");
  EXPECT_EQ(dialect.delimiter, ';');
}

TEST(CsvSniffer, TiesGoToCommaThenTabSemicolonPipeAndAnExtensionBreaksThem) {
  const std::string both = "a,b;c\tx\n1,2;3\t4\n";  // each delimiter splits it in two
  EXPECT_EQ(Sniff(both).delimiter, ',');
  EXPECT_EQ(Sniff(both, {.extension = ".tsv"}).delimiter, '\t');
  EXPECT_EQ(Sniff("a;b\tx\n1;2\t4\n").delimiter, '\t');
  EXPECT_EQ(Sniff("a;b|x\n1;2|4\n").delimiter, ';');
  // An extension never overrides the data.
  EXPECT_EQ(Sniff("a,b\n1,2\n", {.extension = ".tsv"}).delimiter, ',');
}

TEST(CsvSniffer, HeaderlessNumbersHaveNoHeader) {
  const auto dialect = Sniff("1,2.5,true\n2,3.5,false\n3,4,true\n");
  EXPECT_FALSE(dialect.header);
  EXPECT_EQ(dialect.header_source, DialectSource::kSniffed);
}

TEST(CsvSniffer, AllTextKeepsTheHeaderByDefault) {
  const auto dialect = Sniff("a,b\nx,y\nz,w\n");
  EXPECT_TRUE(dialect.header);
  EXPECT_EQ(dialect.header_source, DialectSource::kDefault);
  // Text over one typed column is enough to tell.
  EXPECT_EQ(Sniff("name,n\nx,1\ny,2\n").header_source, DialectSource::kSniffed);
  EXPECT_TRUE(Sniff("name,n\nx,1\ny,2\n").header);
}

TEST(CsvSniffer, SingleQuotesAreTheQuoteOnlyWhenTheyQuoteFields) {
  const auto quoted = Sniff("id,name\n1,'Smith, John'\n2,'Doe, Jane'\n");
  EXPECT_EQ(quoted.quote, '\'');
  EXPECT_EQ(quoted.escape, '\'');
  EXPECT_EQ(quoted.quote_source, DialectSource::kSniffed);
  const auto feet = Sniff("name,height\nbob,5'11\"\nann,37°36'37.8\"N\n");
  EXPECT_EQ(feet.quote, '"');
  EXPECT_EQ(feet.quote_source, DialectSource::kDefault);
  EXPECT_EQ(feet.delimiter, ',');
  // An unterminated '"' is not read as text by switching quotes: the parser reports it.
  EXPECT_EQ(Sniff("a,b\n1,\"x\n2,3\n").quote, '"');
  EXPECT_EQ(Sniff("a,b\n1,\"x,y\"\n").quote_source, DialectSource::kSniffed);
}

TEST(CsvSniffer, GivenSettingsOverrideAndConstrainTheRest) {
  const auto dialect = Sniff("1;2\n3;4\n", {.delimiter = ',', .quote = '\0', .header = true});
  EXPECT_EQ(dialect.delimiter, ',');
  EXPECT_EQ(dialect.delimiter_source, DialectSource::kGiven);
  EXPECT_EQ(dialect.quote, '\0');
  EXPECT_EQ(dialect.escape, '\0');
  EXPECT_EQ(dialect.quote_source, DialectSource::kGiven);
  EXPECT_TRUE(dialect.header);
  EXPECT_EQ(dialect.header_source, DialectSource::kGiven);
  // A decimal comma is never the delimiter.
  EXPECT_EQ(Sniff("1,5\n2,5\n", {.decimal_comma = true}).delimiter_source, DialectSource::kDefault);
  EXPECT_EQ(Sniff("a;b\n1,5;2\n", {.decimal_comma = true}).delimiter, ';');
}

TEST(CsvSniffer, HostileInputsFallBackToTheDefaults) {
  for (const std::string text : {"", "\n\n", "one line no delimiter", "x\ny\nz\n", "\"\"\"\"\n",
                                 "\"", "'", ",,,\n", "\r\n\r\n"}) {
    const auto dialect = Sniff(text);
    EXPECT_TRUE(dialect.delimiter == ',' || text == ",,,\n") << text;
    EXPECT_EQ(dialect.quote, '"') << text;
    EXPECT_TRUE(dialect.header) << text;
    EXPECT_EQ(dialect.header_source, DialectSource::kDefault) << text;
  }
  EXPECT_EQ(Sniff("x\ny\n").delimiter_source, DialectSource::kDefault);
  EXPECT_EQ(Sniff("a,b,c").delimiter_source, DialectSource::kSniffed);  // one line, no newline
}

TEST(CsvSniffer, CrlfAndABomDoNotChangeTheChoice) {
  const auto dialect = Sniff("\xEF\xBB\xBFid\trate\r\n1\t2.5\r\n2\t3.5\n");
  EXPECT_EQ(dialect.delimiter, '\t');
  EXPECT_TRUE(dialect.header);
  EXPECT_EQ(dialect.header_source, DialectSource::kSniffed);
}

TEST(CsvSniffer, EndsOutsideQuotesTellsWhetherAChunkIsWholeRecordsInADialect) {
  const std::string text = "a,'b\n";
  EXPECT_TRUE(EndsOutsideQuotes(ChunkOf(text), ',', '"'));
  EXPECT_FALSE(EndsOutsideQuotes(ChunkOf(text), ',', '\''));
}

}  // namespace
}  // namespace zcpipe::stages
