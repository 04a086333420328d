#include "zcpipe/stages/jsonl.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "block.h"

#include "zcpipe/stages/batch.h"

namespace zcpipe::stages {
namespace {

// The chunk's bytes in an allocation of exactly their size, so that ASan sees any read past
// the chunk (simdjson's padding must come from the parser, not from luck).
class Input {
 public:
  explicit Input(std::string_view text, std::uint64_t first_line = 1, std::uint64_t first_byte = 0)
      : size_(text.size()), bytes_(std::make_unique<std::byte[]>(text.size())) {
    std::memcpy(bytes_.get(), text.data(), text.size());
    chunk_ = Chunk{std::span<const std::byte>(bytes_.get(), size_), 0, first_line, first_byte};
  }
  [[nodiscard]] const Chunk& chunk() const { return chunk_; }

 private:
  std::size_t size_;
  std::unique_ptr<std::byte[]> bytes_;
  Chunk chunk_;
};

using testing::Block;

// One Parse call and what it produced; keeps the block alive for the view.
struct Parsed {
  std::unique_ptr<Block> block;
  ParseOutput output;
  std::optional<BatchView> view;

  [[nodiscard]] const InputErrors& rejected() const { return output.rejected; }
};

Parsed Parse(JsonlParser& parser, const Chunk& chunk, std::size_t block_size = 1 << 16) {
  Parsed parsed{std::make_unique<Block>(block_size), {}, std::nullopt};
  auto output = parser.Parse(chunk, parsed.block->span());
  EXPECT_TRUE(output) << output.error().message;
  if (!output) return parsed;
  parsed.output = std::move(*output);
  auto view = BatchView::Open(parsed.output.batch);
  EXPECT_TRUE(view) << view.error().message;
  if (!view) return parsed;
  parsed.view = *view;
  EXPECT_EQ(view->row_count(), parsed.output.rows_out);
  return parsed;
}

Parsed Parse(const char* schema, std::string_view text) {
  JsonlParser parser(JsonlOptions{Schema::Parse(schema)});
  Input input(text);
  return Parse(parser, input.chunk());
}

// The reason a one-line input is rejected for (or nothing if it is not).
std::optional<InputErrc> RejectReason(const char* schema, std::string_view line) {
  auto parsed = Parse(schema, line);
  EXPECT_EQ(parsed.output.rows_out + parsed.rejected().size(), 1u) << line;
  if (parsed.rejected().empty()) return std::nullopt;
  return parsed.rejected()[0].reason;
}

TEST(JsonlParser, ParsesEveryColumnType) {
  const std::string_view text =
      "{\"id\":1,\"amount\":2.5,\"ok\":true,\"name\":\"ann\",\"at\":\"2024-03-01T12:00:00Z\"}\n"
      "{\"at\":1700000000000000,\"name\":\"\",\"ok\":false,\"amount\":-3,\"id\":-7}\n";
  auto parsed = Parse("id:int64,amount:float64,ok:bool,name:string,at:timestamp", text);
  ASSERT_TRUE(parsed.view);
  const auto& view = *parsed.view;
  EXPECT_EQ(parsed.output.rows_out, 2u);
  EXPECT_TRUE(parsed.rejected().empty());
  EXPECT_EQ(view.schema().ToString(), "id:int64,amount:float64,ok:bool,name:string,at:timestamp");
  EXPECT_EQ(view.column(0).int64(0), 1);
  EXPECT_EQ(view.column(0).int64(1), -7);
  EXPECT_DOUBLE_EQ(view.column(1).float64(0), 2.5);
  EXPECT_DOUBLE_EQ(view.column(1).float64(1), -3.0);  // an integer is a number
  EXPECT_TRUE(view.column(2).boolean(0));
  EXPECT_FALSE(view.column(2).boolean(1));
  EXPECT_EQ(view.column(3).string(0), "ann");
  EXPECT_EQ(view.column(3).string(1), "");
  EXPECT_FALSE(view.column(3).is_null(1));
  EXPECT_EQ(view.column(4).int64(0), 1'709'294'400'000'000);
  EXPECT_EQ(view.column(4).int64(1), 1'700'000'000'000'000);
  EXPECT_EQ(view.row_line(0), 1u);
  EXPECT_EQ(view.row_line(1), 2u);
  EXPECT_EQ(parsed.output.bytes_consumed, text.size());
  EXPECT_EQ(parsed.output.lines_consumed, 2u);
}

TEST(JsonlParser, MissingKeysAndNullsAreNullOtherKeysAreIgnored) {
  auto parsed =
      Parse("id:int64,name:string",
            "{\"id\":null,\"extra\":{\"a\":[1,{\"b\":null},[]],\"c\":{}},\"name\":\"x\"}\n"
            "{\"list\":[[[\"deep\"]],true,false,null,-1.5e-3],\"id\":4}\n"
            "{}\n");
  ASSERT_TRUE(parsed.view);
  const auto& view = *parsed.view;
  ASSERT_EQ(view.row_count(), 3u);
  EXPECT_TRUE(view.column(0).is_null(0));
  EXPECT_EQ(view.column(1).string(0), "x");
  EXPECT_EQ(view.column(0).int64(1), 4);
  EXPECT_TRUE(view.column(1).is_null(1));
  EXPECT_TRUE(view.column(0).is_null(2));
  EXPECT_TRUE(view.column(1).is_null(2));
}

TEST(JsonlParser, UnescapesStringsAndKeys) {
  auto parsed = Parse("name:string", R"({"name":"caf\u00e9"})"
                                     "\n"
                                     R"({"name":"a\nb\t\"q\" \\ \/ \ud83d\ude00"})"
                                     "\n"
                                     R"({"n\u0061me":"by escaped key"})"
                                     "\n"
                                     "{\"name\":\"caf\xc3\xa9 raw\"}\n");
  ASSERT_TRUE(parsed.view);
  const auto column = parsed.view->column(0);
  ASSERT_EQ(parsed.view->row_count(), 4u);
  EXPECT_EQ(column.string(0), "caf\xc3\xa9");
  EXPECT_EQ(column.string(1), "a\nb\t\"q\" \\ / \xf0\x9f\x98\x80");
  EXPECT_EQ(column.string(2), "by escaped key");
  EXPECT_EQ(column.string(3), "caf\xc3\xa9 raw");
}

TEST(JsonlParser, Int64AtItsLimits) {
  auto parsed = Parse("n:int64",
                      "{\"n\":9223372036854775807}\n"
                      "{\"n\":-9223372036854775808}\n"
                      "{\"n\":-0}\n"
                      "{\"n\":9223372036854775808}\n"
                      "{\"n\":-9223372036854775809}\n"
                      "{\"n\":123456789012345678901234567890}\n"
                      "{\"n\":1.5}\n"
                      "{\"n\":1.0}\n"
                      "{\"n\":1e2}\n");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 3u);
  EXPECT_EQ(parsed.view->column(0).int64(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parsed.view->column(0).int64(1), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(parsed.view->column(0).int64(2), 0);
  const std::vector<InputErrc> expected = {InputErrc::kBadInt64,     InputErrc::kBadInt64,
                                           InputErrc::kBadInt64,     InputErrc::kTypeMismatch,
                                           InputErrc::kTypeMismatch, InputErrc::kTypeMismatch};
  ASSERT_EQ(parsed.rejected().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parsed.rejected()[i].reason, expected[i]) << parsed.rejected()[i].Describe();
    EXPECT_EQ(parsed.rejected()[i].line, i + 4);
    EXPECT_EQ(parsed.rejected()[i].column, "n");
  }
  EXPECT_EQ(parsed.rejected()[0].detail, "\"9223372036854775808\" (beyond int64)");
  EXPECT_EQ(parsed.rejected()[3].detail, "expected int64, got number \"1.5\"");
}

// A number that float64 cannot hold as it is written is kBadFloat64 (it is a number, so not a
// type mismatch): beyond double's range, too small (it would be 0), or with more digits than
// the double prints back (issue 22: it was rounded).
TEST(JsonlParser, ANumberFloat64WouldChangeIsBadFloat64) {
  auto parsed =
      Parse("x:float64",
            "{\"x\":1e400}\n{\"x\":-1e400}\n{\"x\":1e-400}\n{\"x\":1.7976931348623157e308}"
            "\n{\"x\":123456789012345678901234567890}\n{\"x\":9007199254740993}"
            "\n{\"x\":0.10000000000000001}\n{\"x\":4196.10}\n{\"x\":-0}\n");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 3u);
  EXPECT_EQ(parsed.view->column(0).float64(0), std::numeric_limits<double>::max());
  EXPECT_EQ(parsed.view->column(0).float64(1), 4196.1);
  EXPECT_TRUE(std::signbit(parsed.view->column(0).float64(2)));
  const std::vector<std::string> details = {
      "\"1e400\" (beyond float64)",
      "\"-1e400\" (beyond float64)",
      "\"1e-400\" (beyond float64)",
      "\"123456789012345678901234567890\" (float64 would make it 1.2345678901234568e+29)",
      "\"9007199254740993\" (float64 would make it 9007199254740992)",
      "\"0.10000000000000001\" (float64 would make it 0.1)"};
  ASSERT_EQ(parsed.rejected().size(), details.size());
  for (std::size_t i = 0; i < details.size(); ++i) {
    EXPECT_EQ(parsed.rejected()[i].reason, InputErrc::kBadFloat64);
    EXPECT_EQ(parsed.rejected()[i].column, "x");
    EXPECT_EQ(parsed.rejected()[i].detail, details[i]);
  }
}

TEST(JsonlParser, WrongKindIsATypeMismatchNamingTheColumn) {
  struct Case {
    const char* schema;
    const char* line;
  };
  const Case cases[] = {
      {"v:int64", R"({"v":"1"})"},     {"v:int64", R"({"v":true})"},
      {"v:int64", R"({"v":[1]})"},     {"v:int64", R"({"v":{"a":1}})"},
      {"v:float64", R"({"v":"1.5"})"}, {"v:bool", R"({"v":1})"},
      {"v:bool", R"({"v":"true"})"},   {"v:bool", R"({"v":[]})"},
      {"v:timestamp", R"({"v":1.5})"}, {"v:timestamp", R"({"v":true})"},
      {"v:timestamp", R"({"v":{}})"},
  };
  for (const auto& c : cases) {
    auto parsed = Parse(c.schema, c.line);
    ASSERT_EQ(parsed.rejected().size(), 1u) << c.line;
    EXPECT_EQ(parsed.rejected()[0].reason, InputErrc::kTypeMismatch) << c.line;
    EXPECT_EQ(parsed.rejected()[0].column, "v") << c.line;
    EXPECT_EQ(parsed.rejected()[0].raw, c.line);
  }
  auto parsed = Parse("a:string,v:bool", R"({"a":"x","v":"yes"})");
  ASSERT_EQ(parsed.rejected().size(), 1u);
  EXPECT_EQ(parsed.rejected()[0].Describe(),
            "line 1 (byte 0): wrong JSON type in column 'v': expected bool, got string \"yes\"");
}

TEST(JsonlParser, Timestamps) {
  auto parsed = Parse("at:timestamp",
                      "{\"at\":\"2024-03-01T00:00:00Z\"}\n"
                      "{\"at\":\"2024-03-01 12:00:00.5+02:00\"}\n"
                      "{\"at\":-1}\n"
                      "{\"at\":\"yesterday\"}\n"
                      "{\"at\":\"2024-02-30\"}\n"
                      "{\"at\":99999999999999999999}\n");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 3u);
  EXPECT_EQ(parsed.view->column(0).int64(0), 1'709'251'200'000'000);
  EXPECT_EQ(parsed.view->column(0).int64(1),
            1'709'251'200'000'000 + 10 * 3'600'000'000LL + 500'000);
  EXPECT_EQ(parsed.view->column(0).int64(2), -1);
  ASSERT_EQ(parsed.rejected().size(), 3u);
  for (const auto& error : parsed.rejected()) {
    EXPECT_EQ(error.reason, InputErrc::kBadTimestamp) << error.Describe();
    EXPECT_EQ(error.column, "at");
  }
  EXPECT_EQ(parsed.rejected()[0].detail, "\"yesterday\"");
}

// A timestamp holds microseconds from year 0000 to 9999: a finer fraction, a leap second or an
// instant outside those years is a bad timestamp, never rounded (issue 22: .123456789Z was
// stored as .123456Z).
TEST(JsonlParser, ATimestampItWouldChangeIsRejected) {
  auto parsed = Parse("at:timestamp",
                      "{\"at\":\"2024-03-01T12:00:00.123456789Z\"}\n"
                      "{\"at\":\"2024-03-01T12:00:00.123456000Z\"}\n"
                      "{\"at\":\"2016-12-31T23:59:60Z\"}\n"
                      "{\"at\":\"9999-12-31T23:59:59-01:00\"}\n"
                      "{\"at\":253402300800000000}\n"
                      "{\"at\":253402300799999999}\n");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 2u);
  EXPECT_EQ(parsed.view->column(0).int64(0), 1'709'294'400'123'456);
  EXPECT_EQ(parsed.view->column(0).int64(1), 253'402'300'799'999'999);
  const std::vector<std::string> details = {
      "\"2024-03-01T12:00:00.123456789Z\" (timestamps hold microseconds)",
      "\"2016-12-31T23:59:60Z\" (no leap seconds)",
      "\"9999-12-31T23:59:59-01:00\" (outside years 0000-9999)",
      "\"253402300800000000\" (microseconds outside years 0000-9999)"};
  ASSERT_EQ(parsed.rejected().size(), details.size());
  for (std::size_t i = 0; i < details.size(); ++i) {
    EXPECT_EQ(parsed.rejected()[i].reason, InputErrc::kBadTimestamp);
    EXPECT_EQ(parsed.rejected()[i].detail, details[i]);
  }
}

TEST(JsonlParser, EmptyChunk) {
  for (std::string_view text : {"", "\n", "\r\n", "  \n\t\n \r\n   "}) {
    auto parsed = Parse("a:int64", text);
    ASSERT_TRUE(parsed.view);
    EXPECT_EQ(parsed.view->row_count(), 0u);
    EXPECT_TRUE(parsed.rejected().empty());
    EXPECT_EQ(parsed.output.bytes_consumed, text.size());
  }
  EXPECT_EQ(Parse("a:int64", "").output.lines_consumed, 0u);
  EXPECT_EQ(Parse("a:int64", "  \n\t\n \r\n   ").output.lines_consumed, 4u);
}

TEST(JsonlParser, LineEndingsBlankLinesAndPositions) {
  JsonlParser parser(JsonlOptions{Schema::Parse("a:int64")});
  const std::string_view text =
      "{\"a\":1}\r\n"  // line 100, byte 5000
      "\r\n"           // blank
      "   \t \n"       // blank
      "\n"             // blank
      "  {\"a\":2}  \r\n"
      "{\"a\":x}\r\n"  // line 105, byte 5000 + 9 + 2 + 6 + 1 + 13
      "{\"a\":3}";     // no newline at the end
  Input input(text, 100, 5000);
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  const auto& view = *parsed.view;
  ASSERT_EQ(view.row_count(), 3u);
  EXPECT_EQ(view.column(0).int64(0), 1);
  EXPECT_EQ(view.column(0).int64(1), 2);
  EXPECT_EQ(view.column(0).int64(2), 3);
  EXPECT_EQ(view.row_line(0), 100u);
  EXPECT_EQ(view.row_line(1), 104u);
  EXPECT_EQ(view.row_line(2), 106u);
  EXPECT_EQ(view.info().first_line, 100u);
  EXPECT_EQ(view.info().first_byte, 5000u);
  ASSERT_EQ(parsed.rejected().size(), 1u);
  EXPECT_EQ(parsed.rejected()[0].line, 105u);
  EXPECT_EQ(parsed.rejected()[0].byte_offset, 5031u);
  EXPECT_EQ(parsed.rejected()[0].raw, "{\"a\":x}");  // without the CR LF
  EXPECT_EQ(parsed.output.bytes_consumed, text.size());
  EXPECT_EQ(parsed.output.lines_consumed, 7u);
  EXPECT_EQ(parsed.output.rows_out + parsed.rejected().size(), 4u);
}

TEST(JsonlParser, BadLinesAmongGoodOnesAreRejectedWithLineAndByteOffset) {
  JsonlParser parser(JsonlOptions{Schema::Parse("id:int64,name:string")});
  const std::string_view text =
      "{\"id\":1,\"name\":\"a\"}\n"      // line 10, byte 1000: ok
      "{\"id\":2,\"name\":\"b\"\n"       // line 11, byte 1020: unclosed
      "\n"                               // line 12: blank
      "{\"id\":\"3\",\"name\":\"c\"}\n"  // line 13, byte 1040: type mismatch
      "[1,2]\n"                          // line 14, byte 1062: not an object
      "  {\"id\":5}  \n"                 // line 15, byte 1068: ok
      "{\"id\":6} x\n"                   // line 16, byte 1081: trailing garbage
      "{\"id\":7,\"name\":\"g\"}";       // line 17, byte 1092: ok
  Input input(text, 10, 1000);
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 3u);
  EXPECT_EQ(parsed.view->column(0).int64(1), 5);
  EXPECT_EQ(parsed.view->row_line(2), 17u);

  struct Expected {
    InputErrc reason;
    std::uint64_t line;
    std::uint64_t byte_offset;
    const char* column;
  };
  const Expected expected[] = {
      {InputErrc::kInvalidJson, 11, 1020, ""},
      {InputErrc::kTypeMismatch, 13, 1040, "id"},
      {InputErrc::kInvalidJson, 14, 1062, ""},
      {InputErrc::kInvalidJson, 16, 1081, ""},
  };
  ASSERT_EQ(parsed.rejected().size(), std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const auto& error = parsed.rejected()[i];
    EXPECT_EQ(error.reason, expected[i].reason) << error.Describe();
    EXPECT_EQ(error.line, expected[i].line) << error.Describe();
    EXPECT_EQ(error.byte_offset, expected[i].byte_offset) << error.Describe();
    EXPECT_EQ(error.column, expected[i].column) << error.Describe();
    EXPECT_EQ(text.substr(error.byte_offset - 1000, error.raw.size()), error.raw);
  }
  EXPECT_EQ(parsed.rejected()[2].detail, "not a JSON object");
  EXPECT_EQ(parsed.rejected()[3].detail, "unclosed object or array, or text after the object");
  EXPECT_EQ(parsed.output.rows_out + parsed.rejected().size(), 7u);  // 8 lines, 1 blank
}

TEST(JsonlParser, InvalidJsonIsRejectedWhereverItIs) {
  const char* const invalid[] = {
      R"([])",
      R"(1)",
      R"("s")",
      R"(null)",
      R"(true)",
      R"({"a":1}})",
      R"({"a":1}{"a":2})",
      R"({"a":1)",
      R"({"a":1,})",
      R"({"a" 1})",
      R"({,})",
      R"({"a":1 2})",
      R"({"a":])",
      R"({"a":01})",
      R"({"a":-})",
      R"({"a":1.})",
      R"({"a":.5})",
      R"({"a":+1})",
      R"({"a":1e})",
      R"({"a":tru})",
      R"({"a":nul})",
      R"({"a":True})",
      R"({"a":NaN})",
      R"({"a":"\x"})",
      R"({"a":"\u12"})",
      R"({"a":'s'})",
      R"({a:1})",
      R"({"a":"unclosed})",
      "{\"a\":\"tab\there\"}",
      // ...also in keys the schema does not have, at any depth
      R"({"a":1,"z":tru})",
      R"({"a":1,"z":[1,,2]})",
      R"({"a":1,"z":{"y":[nul]}})",
      R"({"a":1,"z":{"y":01}})",
      R"({"a":1,"z":"\q"})",
      R"({"a":1,"z\q":1})",
      R"({"a":1,"z":[}})",
      // ...and it wins over a type mismatch found first
      R"({"a":"text","z":tru})",
      R"({"a":[tru]})",
      R"({"a":"x"} garbage)",
  };
  for (const char* line : invalid) {
    EXPECT_EQ(RejectReason("a:int64", line), InputErrc::kInvalidJson) << line;
  }
}

TEST(JsonlParser, InvalidUtf8IsRejected) {
  EXPECT_EQ(RejectReason("a:string", "{\"a\":\"\xff\"}"), InputErrc::kInvalidUtf8);
  EXPECT_EQ(RejectReason("a:string", "{\"a\":\"x\",\"b\":\"\xc3\x28\"}"), InputErrc::kInvalidUtf8);
  EXPECT_EQ(RejectReason("a:string", "{\"a\":\"\xed\xa0\x80\"}"), InputErrc::kInvalidUtf8);
  // An escaped lone surrogate is well-formed JSON but not Unicode.
  auto parsed = Parse("a:string", R"({"a":"\ud800"})");
  ASSERT_EQ(parsed.rejected().size(), 1u);
  EXPECT_EQ(parsed.rejected()[0].reason, InputErrc::kInvalidUtf8);
  EXPECT_EQ(parsed.rejected()[0].column, "a");
  EXPECT_EQ(RejectReason("a:string", R"({"a":"x","b":"\udc00"})"), InputErrc::kInvalidUtf8);
}

// A string column holds any JSON value as its text: a number's or a boolean's token, an array
// or object as it is in the line (checked as JSON first). Inference types a key string when its
// values are of mixed kinds or nested, so this is what lets such rows in at all.
TEST(JsonlParser, AStringColumnHoldsAnyValueAsItsJsonText) {
  auto parsed = Parse("v:string,n:int64", R"({"v":-1.5e3,"n":1})"
                                          "\n"
                                          R"({"v":true})"
                                          "\n"
                                          R"({"v":[1, {"a":"\u00e9"}, []] ,"n":2})"
                                          "\n"
                                          R"({"v":{"k":null}})"
                                          "\n"
                                          R"({"v":"text"})"
                                          "\n"
                                          R"({"v":[1,tru]})"
                                          "\n"
                                          R"({"v":{"a":[1,]}})");
  ASSERT_TRUE(parsed.view);
  std::vector<std::string> texts;
  for (std::uint32_t row = 0; row < parsed.view->row_count(); ++row) {
    texts.emplace_back(parsed.view->column(0).string(row));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"-1.5e3", "true", R"([1, {"a":"\u00e9"}, []])",
                                             R"({"k":null})", "text"}));
  EXPECT_EQ(parsed.view->column(1).int64(2), 2);  // the keys after a nested value are read
  ASSERT_EQ(parsed.rejected().size(), 2u);        // what is in them is still checked
  EXPECT_EQ(parsed.rejected()[0].reason, InputErrc::kInvalidJson);
  EXPECT_EQ(parsed.rejected()[0].column, "v");
  EXPECT_EQ(parsed.rejected()[0].line, 6u);
  EXPECT_EQ(parsed.rejected()[1].reason, InputErrc::kInvalidJson);
  EXPECT_EQ(parsed.rejected()[1].line, 7u);
}

TEST(JsonlParser, NestingIsLimited) {
  const auto nested = [](std::size_t depth) {
    return "{\"a\":1,\"z\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  EXPECT_EQ(RejectReason("a:int64", nested(JsonlParser::kMaxDepth)), std::nullopt);
  EXPECT_EQ(RejectReason("a:int64", nested(JsonlParser::kMaxDepth + 1)), InputErrc::kInvalidJson);
  // Far deeper than the limit, unbalanced: rejected, no crash.
  EXPECT_EQ(RejectReason("a:int64", "{\"z\":" + std::string(100'000, '[')),
            InputErrc::kInvalidJson);
  EXPECT_EQ(RejectReason("a:int64",
                         "{\"z\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}"),
            InputErrc::kInvalidJson);
}

TEST(JsonlParser, DuplicateKeysLastOneWins) {
  auto parsed = Parse("a:int64,s:string", R"({"a":1,"s":"first","a":2,"s":"second"})"
                                          "\n"
                                          R"({"a":1,"a":null})"
                                          "\n"
                                          R"({"a":1,"a":"bad"})");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 2u);
  EXPECT_EQ(parsed.view->column(0).int64(0), 2);
  EXPECT_EQ(parsed.view->column(1).string(0), "second");
  EXPECT_TRUE(parsed.view->column(0).is_null(1));
  ASSERT_EQ(parsed.rejected().size(), 1u);
  EXPECT_EQ(parsed.rejected()[0].reason, InputErrc::kTypeMismatch);
}

TEST(JsonlParser, RejectedRowsLeaveNoTrace) {
  // A row rejected after some of its values were stored must not shift the columns.
  auto parsed = Parse("a:int64,s:string,b:bool", R"({"a":1,"s":"keep","b":true})"
                                                 "\n"
                                                 R"({"a":2,"s":"drop","b":"no"})"
                                                 "\n"
                                                 R"({"a":3,"s":"drop","b":false,"z":tru})"
                                                 "\n"
                                                 R"({"b":false,"s":"keep too","a":4})");
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 2u);
  EXPECT_EQ(parsed.view->column(0).int64(1), 4);
  EXPECT_EQ(parsed.view->column(1).string(0), "keep");
  EXPECT_EQ(parsed.view->column(1).string(1), "keep too");
  EXPECT_FALSE(parsed.view->column(2).boolean(1));
}

// Many rows of a fixed width, for the block-size tests.
std::string Rows(int count, int first = 0) {
  std::string text;
  for (int i = first; i < first + count; ++i) {
    text += "{\"id\":" + std::to_string(i) + ",\"name\":\"row " + std::to_string(i) + "\"}\n";
  }
  return text;
}

TEST(JsonlParser, AFullBlockTakesAPrefixAndTheRestGoesToTheNext) {
  JsonlParser parser(JsonlOptions{Schema::Parse("id:int64,name:string")});
  const std::string text = Rows(1000);
  Input input(text, 1, 0);
  std::vector<std::int64_t> ids;
  std::size_t offset = 0;
  std::uint64_t line = 1;
  int batches = 0;
  while (offset < text.size()) {
    Chunk rest = input.chunk();
    rest.bytes = rest.bytes.subspan(offset);
    rest.first_line = line;
    rest.first_byte = offset;
    auto parsed = Parse(parser, rest, 4096);
    ASSERT_TRUE(parsed.view);
    ASSERT_GT(parsed.output.rows_out, 0u);
    EXPECT_TRUE(parsed.rejected().empty());
    EXPECT_LE(parsed.output.batch.size(), 4096u);
    EXPECT_EQ(parsed.view->info().first_line, line);
    for (std::uint32_t row = 0; row < parsed.view->row_count(); ++row) {
      ids.push_back(parsed.view->column(0).int64(row));
      EXPECT_EQ(parsed.view->row_line(row), static_cast<std::uint64_t>(ids.back()) + 1);
    }
    // A prefix ends at a line boundary and counts its lines.
    EXPECT_EQ(parsed.output.lines_consumed, parsed.output.rows_out);
    EXPECT_TRUE(parsed.output.bytes_consumed == rest.bytes.size() ||
                text[offset + parsed.output.bytes_consumed - 1] == '\n');
    offset += parsed.output.bytes_consumed;
    line += parsed.output.lines_consumed;
    ++batches;
  }
  EXPECT_GT(batches, 5);
  ASSERT_EQ(ids.size(), 1000u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<std::int64_t>(i));
}

TEST(JsonlParser, ARowLargerThanABlockIsRejectedAndTheRestContinues) {
  JsonlParser parser(JsonlOptions{Schema::Parse("id:int64,name:string")});
  const std::string text =
      Rows(2) + "{\"id\":9,\"name\":\"" + std::string(8000, 'x') + "\"}\n" + Rows(2, 3);
  Input input(text);
  // The first two rows fill no block, so the big one comes after them in the same call: the
  // block is not empty then, so the call stops there; the next call rejects it.
  auto first = Parse(parser, input.chunk(), 4096);
  EXPECT_EQ(first.output.rows_out, 2u);
  EXPECT_TRUE(first.rejected().empty());
  EXPECT_EQ(first.output.lines_consumed, 2u);
  Chunk rest = input.chunk();
  rest.bytes = rest.bytes.subspan(first.output.bytes_consumed);
  rest.first_line = 3;
  rest.first_byte = first.output.bytes_consumed;
  auto second = Parse(parser, rest, 4096);
  ASSERT_TRUE(second.view);
  EXPECT_EQ(second.output.rows_out, 2u);
  ASSERT_EQ(second.rejected().size(), 1u);
  EXPECT_EQ(second.rejected()[0].reason, InputErrc::kRecordTooLarge);
  EXPECT_EQ(second.rejected()[0].line, 3u);
  EXPECT_EQ(second.rejected()[0].byte_offset, first.output.bytes_consumed);
  EXPECT_EQ(second.output.bytes_consumed, rest.bytes.size());
  EXPECT_EQ(second.view->column(0).int64(0), 3);
}

TEST(JsonlParser, ABlockTooSmallForAnyBatchIsAnError) {
  JsonlParser parser(JsonlOptions{Schema::Parse("id:int64,name:string")});
  Input input(Rows(3));
  Block block(64);
  auto output = parser.Parse(input.chunk(), block.span());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code, StageErrc::kBatchTooLarge);
}

// rows_in = rows_out + rejected, for random mixes of good, bad and blank lines, whole or split
// over blocks of several sizes, with one parser reused throughout.
TEST(JsonlParser, EveryRowIsEitherOutOrRejected) {
  const std::string pieces[] = {
      R"({"a":1,"b":2.5,"c":true,"d":"x","e":"2024-01-01T00:00:00Z"})",
      R"({"d":"\u00e9\n","a":-5,"z":[1,{"q":null}]})",
      R"({"a":null})",
      R"({})",
      R"({"a":"no"})",
      R"({"b":1e400})",
      R"({"e":"not a time"})",
      R"({"a":1)",
      R"([1])",
      R"({"a":1} 2)",
      R"({"c":tru})",
      "{\"d\":\"\xff\"}",
      R"({"d":"long )" + std::string(300, 'y') + "\"}",
      "",
      "   ",
  };
  JsonlParser parser(JsonlOptions{Schema::Parse("a:int64,b:float64,c:bool,d:string,e:timestamp")});
  std::mt19937 random(42);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    std::uint64_t rows_in = 0;
    const int lines = static_cast<int>(random() % 40);
    for (int i = 0; i < lines; ++i) {
      const std::string_view piece = pieces[random() % std::size(pieces)];
      rows_in += piece.find_first_not_of(' ') != std::string_view::npos ? 1 : 0;
      text += piece;
      if (i + 1 < lines || random() % 2 == 0) text += random() % 3 == 0 ? "\r\n" : "\n";
    }
    Input input(text);
    const std::size_t block_size = round % 2 == 0 ? 1 << 16 : 2048;
    std::uint64_t rows_out = 0, rejected = 0, lines_consumed = 0;
    std::size_t offset = 0;
    do {
      Chunk rest = input.chunk();
      rest.bytes = rest.bytes.subspan(offset);
      auto parsed = Parse(parser, rest, block_size);
      ASSERT_TRUE(parsed.view);
      rows_out += parsed.output.rows_out;
      rejected += parsed.rejected().size();
      offset += parsed.output.bytes_consumed;
      lines_consumed += parsed.output.lines_consumed;
      ASSERT_TRUE(parsed.output.bytes_consumed > 0 || text.empty());
    } while (offset < text.size());
    EXPECT_EQ(rows_in, rows_out + rejected) << text;
    const auto newlines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
    EXPECT_EQ(lines_consumed, newlines + (text.empty() || text.back() == '\n' ? 0 : 1));
  }
}

TEST(JsonlParser, WithAnEmptySchemaRowsAreStillCountedAndChecked) {
  JsonlParser parser(JsonlOptions{});
  Input input("{\"a\":1}\n{}\n[]\n{\"b\":{\"c\":[]}}\n");
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  EXPECT_EQ(parsed.view->row_count(), 3u);
  EXPECT_EQ(parsed.view->column_count(), 0u);
  ASSERT_EQ(parsed.rejected().size(), 1u);
  EXPECT_EQ(parsed.rejected()[0].line, 3u);
}

TEST(JsonlParser, IsReusableAcrossChunksAndMovable) {
  JsonlParser first(JsonlOptions{Schema::Parse("a:int64,s:string")});
  Input one("{\"a\":1,\"s\":\"one\"}\n{\"a\":2,\"s\":\"two\"}\n");
  Input two("{\"s\":\"three\"}\n");
  EXPECT_EQ(Parse(first, one.chunk()).output.rows_out, 2u);
  JsonlParser parser = std::move(first);
  auto parsed = Parse(parser, two.chunk());
  ASSERT_TRUE(parsed.view);
  ASSERT_EQ(parsed.view->row_count(), 1u);
  EXPECT_TRUE(parsed.view->column(0).is_null(0));
  EXPECT_EQ(parsed.view->column(1).string(0), "three");
  EXPECT_EQ(parser.schema().ToString(), "a:int64,s:string");
}

TEST(JsonlParser, LinesNearTheEndOfTheChunkAreParsedWithoutReadingPastIt) {
  // Lines of every length around simdjson's padding, last in the chunk, with and without a
  // newline: ASan (Input allocates exactly the chunk) catches any read past the end.
  JsonlParser parser(JsonlOptions{Schema::Parse("s:string,n:int64")});
  for (std::size_t length = 0; length < 150; ++length) {
    for (const char* end : {"", "\n", "\r\n"}) {
      const std::string text = "{\"n\":1}\n{\"s\":\"" + std::string(length, 'q') +
                               "\",\"n\":" + std::to_string(length) + "}" + end;
      Input input(text);
      auto parsed = Parse(parser, input.chunk());
      ASSERT_TRUE(parsed.view);
      ASSERT_EQ(parsed.view->row_count(), 2u) << length;
      EXPECT_EQ(parsed.view->column(1).int64(1), static_cast<std::int64_t>(length));
      EXPECT_EQ(parsed.view->column(0).string(1).size(), length);
    }
  }
  // Scalars cut off by the end of the chunk.
  for (const char* line : {"{\"n\":1", "{\"n\":12", "{\"n\":tr", "{\"s\":\"ab", "{\"n\":-"}) {
    EXPECT_EQ(RejectReason("s:string,n:int64", line), InputErrc::kInvalidJson) << line;
  }
}

TEST(JsonlInferSchema, KeysInOrderOfFirstAppearanceTypedByTheirValues) {
  Input input(
      "{\"id\":1,\"price\":2,\"ok\":true,\"name\":\"a\",\"at\":\"2024-01-01T00:00:00Z\"}\n"
      "\n"
      "{\"id\":2,\"price\":2.5,\"ok\":false,\"name\":\"2024-01-01\",\"at\":\"2024-01-02T00:00:"
      "00Z\","
      "\"nothing\":null,\"mixed\":1,\"obj\":{\"x\":1}}\n"
      "{\"id\":null,\"mixed\":\"one\",\"list\":[1,2],\"big\":9223372036854775808}\n"
      "not json, skipped\n"
      "{\"skipped\":tru}\n"
      "{\"\":1,\"ts_then_text\":\"2024-01-01T00:00:00Z\"}\n"
      "{\"ts_then_text\":\"soon\"}\n");
  const auto schema = JsonlParser::InferSchema(input.chunk());
  EXPECT_EQ(schema.ToString(),
            "id:int64,price:float64,ok:bool,name:string,at:timestamp,nothing:string,"
            "mixed:string,obj:string,list:string,big:string,ts_then_text:string");
}

// Issue 22: an inferred type keeps every value: an integer beyond int64 or a number a double
// would round makes the key string (which keeps the number's token), never float64; a
// timestamp finer than microseconds is text.
TEST(JsonlInferSchema, TheInferredTypeKeepsEveryValue) {
  Input input(
      "{\"big\":1,\"huge\":1.5,\"wide\":0.5,\"fine\":\"2024-03-01T12:00:00.123456Z\","
      "\"ns\":\"2024-03-01T12:00:00Z\",\"exact\":1}\n"
      "{\"big\":9223372036854775808,\"huge\":99999999999999999999999,"
      "\"wide\":9007199254740993,\"fine\":\"2024-03-01T12:00:00.123456000Z\","
      "\"ns\":\"2024-03-01T12:00:00.123456789Z\",\"exact\":4196.10}\n"
      "{\"wide\":0.10000000000000001}\n");
  JsonlParser parser(JsonlOptions{JsonlParser::InferSchema(input.chunk())});
  EXPECT_EQ(parser.schema().ToString(),
            "big:string,huge:string,wide:string,fine:timestamp,ns:string,exact:float64");
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  EXPECT_TRUE(parsed.rejected().empty());
  EXPECT_EQ(parsed.view->column(0).string(1), "9223372036854775808");
  EXPECT_EQ(parsed.view->column(1).string(1), "99999999999999999999999");
  EXPECT_EQ(parsed.view->column(2).string(1), "9007199254740993");
  EXPECT_EQ(parsed.view->column(2).string(2), "0.10000000000000001");
  EXPECT_EQ(parsed.view->column(4).string(1), "2024-03-01T12:00:00.123456789Z");
  EXPECT_EQ(parsed.view->column(5).float64(1), 4196.1);
}

// Issue 25: a string key of dates is date, of local times datetime, of instants timestamp; a
// key mixing them, or dates and numbers, is string. A number is never a date.
TEST(JsonlInferSchema, DatesLocalTimesAndInstantsAreInferredApart) {
  Input input(
      "{\"d\":\"2012-01-01\",\"local\":\"2010-01-01 01:00:00\",\"at\":\"2010-01-01T01:00:00Z\","
      "\"mixed\":\"2010-01-01T01:00:00\",\"d_or_n\":\"2012-01-01\",\"n\":20120101}\n"
      "{\"d\":null,\"local\":\"2010-06-30T23:59:59.5\",\"at\":\"2010-01-01T01:00:00-05:30\","
      "\"mixed\":\"2010-01-01T01:00:00Z\",\"d_or_n\":20120101,\"n\":20120102}\n");
  JsonlParser parser(JsonlOptions{JsonlParser::InferSchema(input.chunk())});
  EXPECT_EQ(parser.schema().ToString(),
            "d:date,local:datetime,at:timestamp,mixed:string,d_or_n:string,n:int64");
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  EXPECT_TRUE(parsed.rejected().empty());
  EXPECT_EQ(parsed.view->column(0).int64(0), 15340);
  EXPECT_EQ(parsed.view->column(1).int64(1), 1277942399500000);
  EXPECT_EQ(parsed.view->column(2).int64(1), 1262327400000000);
  EXPECT_EQ(parsed.view->column(4).string(1), "20120101");
}

// A declared date or datetime takes its own ISO 8601 string only: a number, or a string of
// another temporal form, is a bad row naming what it is.
TEST(JsonlParser, ADateOrLocalTimeTakesItsOwnFormOnly) {
  auto parsed = Parse("d:date,dt:datetime",
                      "{\"d\":\"2012-01-01\",\"dt\":\"2012-01-01T10:00:00\"}\n"
                      "{\"d\":20120101}\n"
                      "{\"d\":\"2012-01-01T00:00:00Z\"}\n"
                      "{\"dt\":\"2012-01-01T10:00:00+01:00\"}\n"
                      "{\"dt\":1325412000000000}\n");
  ASSERT_TRUE(parsed.view);
  EXPECT_EQ(parsed.view->row_count(), 1u);
  std::vector<std::string> described;
  for (const auto& row : parsed.rejected()) described.push_back(row.Describe());
  EXPECT_EQ(described,
            (std::vector<std::string>{
                "line 2 (byte 46): wrong JSON type in column 'd': expected date, got number "
                "\"20120101\"",
                "line 3 (byte 61): bad date in column 'd': \"2012-01-01T00:00:00Z\" (a time of "
                "day: a date holds days)",
                "line 4 (byte 90): bad datetime in column 'dt': \"2012-01-01T10:00:00+01:00\" "
                "(a zone: a datetime is a local time)",
                "line 5 (byte 125): wrong JSON type in column 'dt': expected datetime, got number "
                "\"1325412000000000\""}));
}

TEST(JsonlInferSchema, ReadsAtMostMaxRowsAndIsEmptyWithoutRows) {
  Input input("{\"a\":1}\n{\"b\":2}\n{\"a\":1.5}\n");
  EXPECT_EQ(JsonlParser::InferSchema(input.chunk(), 1).ToString(), "a:int64");
  EXPECT_EQ(JsonlParser::InferSchema(input.chunk(), 2).ToString(), "a:int64,b:int64");
  EXPECT_EQ(JsonlParser::InferSchema(input.chunk()).ToString(), "a:float64,b:int64");
  Input empty("\n  \n");
  EXPECT_EQ(JsonlParser::InferSchema(empty.chunk()).size(), 0u);
  Input garbage("[]\n{\"a\":}\n");
  EXPECT_EQ(JsonlParser::InferSchema(garbage.chunk()).size(), 0u);
}

TEST(JsonlInferSchema, TheInferredSchemaParsesTheRows) {
  Input input(
      "{\"id\":1,\"v\":0.5,\"at\":\"2024-01-01T00:00:00Z\",\"s\":\"x\",\"tags\":[\"a\"],\"m\":1}\n"
      "{\"id\":2,\"v\":1,\"at\":\"2024-01-02T03:04:05Z\",\"s\":null,\"tags\":{},\"m\":\"x\"}\n");
  JsonlParser parser(JsonlOptions{JsonlParser::InferSchema(input.chunk())});
  auto parsed = Parse(parser, input.chunk());
  ASSERT_TRUE(parsed.view);
  EXPECT_EQ(parsed.view->row_count(), 2u);
  EXPECT_TRUE(parsed.rejected().empty());
  EXPECT_EQ(parsed.view->schema().ToString(),
            "id:int64,v:float64,at:timestamp,s:string,tags:string,m:string");
}

}  // namespace
}  // namespace zcpipe::stages
