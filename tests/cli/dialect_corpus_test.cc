// Issue 25 (items 3 and 4): real-world CSV dialects (tests/data/dialect/) import with default
// flags, plus the one option a guess would make unsafe, and export value for value; each
// sniffing decision shows in --stats json and in `zcpipe inspect`; --isolate reads the same.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

// What the sniffer chose for a file: each setting and where it came from.
struct Dialect {
  std::string delimiter, delimiter_source;
  std::string quote, quote_source;  // the escape is the quote
  bool header;
  std::string header_source;

  // The "dialect" object of --stats json.
  [[nodiscard]] std::string Json() const {
    const auto text = [](const std::string& c) {
      return c == "\t" ? std::string("\\t") : c == "\"" ? std::string("\\\"") : c;
    };
    return R"({"delimiter":")" + text(delimiter) + R"(","delimiter_source":")" + delimiter_source +
           R"(","quote":")" + text(quote) + R"(","quote_source":")" + quote_source +
           R"(","escape":")" + text(quote) + R"(","header":)" + (header ? "true" : "false") +
           R"(,"header_source":")" + header_source + "\"}";
  }
  // The dialect line of `zcpipe inspect`.
  [[nodiscard]] std::string Line() const {
    const auto name = [](const std::string& c) { return c == "\t" ? "tab" : "'" + c + "'"; };
    return "delimiter " + name(delimiter) + " (" + delimiter_source + "), quote " + name(quote) +
           " (" + quote_source + "), escape " + name(quote) + ", header " +
           (header ? "yes" : "no") + " (" + header_source + ")";
  }
};

struct Case {
  std::string file;      // in tests/data/dialect/
  std::string options;   // beyond the defaults
  Dialect dialect;       // as sniffed
  std::string exported;  // `zcpipe export --to csv`
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"tab_separated.tsv",
       "",
       {"\t", "sniffed", "\"", "default", true, "sniffed"},
       "id,city,rate\n1,\"New York, NY\",2.5\n2,Paris,3.25\n"},
      {"semicolon_decimal_comma.csv",
       "",
       {";", "sniffed", "\"", "default", true, "sniffed"},
       "id,product,price\n1,Käse,\"2,5\"\n2,Brot,\"3,75\"\n3,Milch,1\n"},
      {"semicolon_decimal_comma.csv",
       "--decimal-comma",
       {";", "sniffed", "\"", "default", true, "sniffed"},
       "id,product,price\n1,Käse,2.5\n2,Brot,3.75\n3,Milch,1\n"},
      {"pipe_separated.csv",
       "",
       {"|", "sniffed", "\"", "default", true, "sniffed"},
       "id,name,note\n1,a,\"x,y\"\n2,b,z;w\n"},
      {"headerless_numeric.csv",
       "",
       {",", "sniffed", "\"", "default", false, "sniffed"},
       "column_1,column_2,column_3\n1,2.5,true\n2,3.5,false\n3,-1,true\n"},
      {"header_over_numbers.csv",
       "",
       {",", "sniffed", "\"", "default", true, "sniffed"},
       "id,amount,label\n1,10,x\n2,20.5,y\n"},
      {"single_quotes.csv",
       "",
       {",", "sniffed", "'", "sniffed", true, "sniffed"},
       "id,name\n1,\"Smith, John\"\n2,O'Brien\n3,plain\n"},
      {"stray_quotes.csv",
       "",
       {",", "sniffed", "\"", "default", true, "default"},
       "name,height,position\nbob,\"5'11\"\"\",\"37°36'37.8\"\"N\"\n"
       "ann,\"6'0\"\"\",\"122°25'9.8\"\"W\"\n"},
      {"crlf_mix.csv",
       "",
       {",", "sniffed", "\"", "sniffed", true, "sniffed"},
       "id,name\n1,\"a\r\nb\"\n2,c\n3,d\n"},
  };
  return cases;
}

class DialectCorpusTest : public CliTest {
 protected:
  void Copy(const std::string& file) const {
    std::filesystem::copy_file(std::filesystem::path(ZCPIPE_TEST_DATA) / "dialect" / file,
                               dir_ / file, std::filesystem::copy_options::overwrite_existing);
  }
};

TEST_F(DialectCorpusTest, EachFileImportsWithItsSniffedDialectAndExportsValueForValue) {
  for (const Case& c : Cases()) {
    Copy(c.file);
    for (const std::string placement : {"", " --isolate"}) {
      const std::string what = c.file + " " + c.options + placement;
      const auto run = Run("run " + c.file + " " + c.options + placement +
                           " -o out.zcp -k key --force --progress none --stats json");
      ASSERT_EQ(run.exit_code, 0) << what << ": " << run.err;
      EXPECT_TRUE(Contains(run.out, "\"dialect\":" + c.dialect.Json())) << what << ": " << run.out;
      const auto back = Run("export out.zcp --to csv -o - -k key");
      ASSERT_EQ(back.exit_code, 0) << what << ": " << back.err;
      EXPECT_EQ(back.out, c.exported) << what;
    }
    const auto inspect = Run("inspect " + c.file + " " + c.options);
    ASSERT_EQ(inspect.exit_code, 0) << c.file << ": " << inspect.err;
    EXPECT_TRUE(Contains(inspect.out, "dialect:     " + c.dialect.Line() + "\n"))
        << c.file << ": " << inspect.out;
  }
}

TEST_F(DialectCorpusTest, AnUnterminatedQuoteNamesTheQuoteAndTheLineItOpenedOn) {
  Copy("unterminated_quote.csv");
  for (const std::string placement : {"", " --isolate"}) {
    const auto run =
        Run("run unterminated_quote.csv -o out.zcp -k key --force --progress none" + placement);
    EXPECT_EQ(run.exit_code, 3) << placement;
    EXPECT_TRUE(Contains(run.err,
                         "unterminated_quote.csv:3: line 3 (byte 13): unterminated quoted field: "
                         "the quote \" opened on line 3 is never closed"))
        << placement << ": " << run.err;
  }
}

TEST_F(DialectCorpusTest, FlagsOverrideEachSniffedSetting) {
  Copy("headerless_numeric.csv");
  Copy("stray_quotes.csv");
  const auto given =
      Run("run headerless_numeric.csv --header --delimiter , --quote none "
          "-o out.zcp -k key --progress none --stats json");
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_TRUE(Contains(
      given.out, R"("dialect":{"delimiter":",","delimiter_source":"given","quote":"",)"
                 R"("quote_source":"given","escape":"","header":true,"header_source":"given"})"))
      << given.out;
  const auto strict = Run("run stray_quotes.csv --strict -o strict.zcp -k key --progress none");
  EXPECT_EQ(strict.exit_code, 3);
  EXPECT_TRUE(Contains(strict.err, "stray_quotes.csv:2: line 2 (byte 21): unexpected quote"))
      << strict.err;
  const auto comma =
      Run("run headerless_numeric.csv --delimiter , --decimal-comma -o c.zcp -k key");
  EXPECT_EQ(comma.exit_code, 2) << comma.err;
  EXPECT_TRUE(Contains(comma.err, "decimal comma")) << comma.err;
}

TEST_F(DialectCorpusTest, StandardInputIsSniffedToo) {
  Copy("tab_separated.tsv");
  const auto run =
      Run("run - --format csv -o out.zcp -k key --progress none --stats json < tab_separated.tsv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Contains(run.out, R"("delimiter":"\t","delimiter_source":"sniffed")")) << run.out;
  const auto inspect = Run("inspect - < tab_separated.tsv");
  EXPECT_TRUE(Contains(inspect.out, "schema:      id:int64,city:string,rate:float64\n"))
      << inspect.out << inspect.err;
}

// The chunker cuts the first chunk before the dialect is known (with '"'); a '\''-quoted field
// with newlines across that cut makes the input be read again in the sniffed dialect, or, from
// a pipe, which cannot be, a refusal saying what to give.
TEST_F(DialectCorpusTest, AFirstChunkCutInsideASniffedQuoteIsReadAgain) {
  std::string text = "id,text\n";
  int rows = 0;
  while (text.size() < 3000) {
    text += std::to_string(rows) + ",'row, " + std::to_string(rows) + "'\n";
    ++rows;
  }
  text += std::to_string(rows++) + ",'";
  for (int i = 0; i < 400; ++i) text += "line " + std::to_string(i) + "\n";  // past byte 4096
  text += "'\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(rows++) + ",'after, x'\n";
  std::ofstream(dir_ / "long.csv", std::ios::binary) << text;
  for (const std::string placement : {"", " --isolate"}) {
    const auto run =
        Run("run long.csv --chunk-size 4KiB -o out.zcp -k key --force --progress none "
            "--stats json" +
            placement);
    ASSERT_EQ(run.exit_code, 0) << placement << ": " << run.err;
    EXPECT_TRUE(Contains(run.out, R"("quote":"'","quote_source":"sniffed")")) << run.out;
    EXPECT_TRUE(Contains(run.out, "\"rows_out\":" + std::to_string(rows) + ",")) << run.out;
  }
  const auto back = Run("export out.zcp --to csv -o - -k key");
  EXPECT_TRUE(Contains(back.out, "\nline 399\n\"\n")) << back.out.substr(0, 200);
  const auto piped = Run("run - --format csv --chunk-size 4KiB -o pipe.zcp -k key < long.csv");
  EXPECT_EQ(piped.exit_code, 3) << piped.err;
  EXPECT_TRUE(Contains(piped.err,
                       "<stdin>: the sniffed dialect (delimiter ',', quote ''') cuts the first "
                       "chunk elsewhere, and the input cannot be read again: give --delimiter and "
                       "--quote"))
      << piped.err;
  const auto given =
      Run("run - --format csv --quote \"'\" --chunk-size 4KiB -o pipe.zcp -k key < long.csv");
  EXPECT_EQ(given.exit_code, 0) << given.err;
}

}  // namespace
}  // namespace zcpipe::cli
