// The rejects file's lines are JSON whatever the bytes of the row (issue 22).
#include "rejects_line.h"

#include <map>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base64.h"

namespace zcpipe::detail {
namespace {

using stages::InputErrc;
using stages::RawEcho;
using testing::Base64Decode;

// The line parsed by simdjson (which validates UTF-8 too), as field -> string value.
std::map<std::string, std::string> Parse(const std::string& line) {
  EXPECT_TRUE(line.ends_with("}\n")) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  EXPECT_EQ(parser.parse(line).get(object), simdjson::SUCCESS) << line;
  std::map<std::string, std::string> fields;
  for (const auto field : object) {
    fields[std::string(field.key)] = field.value.is_string()
                                         ? std::string(std::string_view(field.value))
                                         : simdjson::minify(field.value);
  }
  return fields;
}

TEST(RejectsLine, EveryControlCharacterAndLineSeparatorIsEscaped) {
  std::string text;
  for (int c = 0; c < 0x20; ++c) text += static_cast<char>(c);
  text += "\x7f \xE2\x80\xA8 \xE2\x80\xA9 \"\\ é";
  const stages::InputError row{InputErrc::kBadInt64, 12, 345, "col\n", text, text};
  const std::string line = RejectsLine("in.csv", row, RawEcho::kAsRead);
  for (const char c : line.substr(0, line.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "a raw control character in " << line;
  }
  EXPECT_EQ(line.find("\xE2\x80\xA8"), std::string::npos) << "raw U+2028 (not JavaScript)";
  EXPECT_EQ(line.find("\xE2\x80\xA9"), std::string::npos);
  const auto fields = Parse(line);
  EXPECT_EQ(fields, (std::map<std::string, std::string>{{"file", "in.csv"},
                                                        {"line", "12"},
                                                        {"byte", "345"},
                                                        {"reason", "bad int64"},
                                                        {"column", "col\n"},
                                                        {"detail", text},
                                                        {"raw", text}}));
}

TEST(RejectsLine, BytesThatAreNotUtf8GoAsBase64InAFieldThatSaysSo) {
  const std::string latin1 = "caf\xe9,1\r\n\x80\xff", overlong = "\xc0\xaf",
                    surrogate = "\xed\xa0\x80";
  const stages::InputError row{InputErrc::kInvalidUtf8, 3, 40, "name", overlong, latin1};
  const auto fields = Parse(RejectsLine("d\xe9j\xe0.csv", row, RawEcho::kAsRead));
  EXPECT_EQ(fields.count("file") + fields.count("raw") + fields.count("detail"), 0u);
  EXPECT_EQ(Base64Decode(fields.at("file_base64")), "d\xe9j\xe0.csv");
  EXPECT_EQ(Base64Decode(fields.at("raw_base64")), latin1);
  EXPECT_EQ(Base64Decode(fields.at("detail_base64")), overlong);
  EXPECT_EQ(fields.at("column"), "name");
  for (const std::string& raw :
       {surrogate, std::string("a\xf4\x90\x80\x80"), std::string("\xe2\x80")}) {
    const stages::InputError bad{InputErrc::kInvalidUtf8, 1, 0, "", "", raw};
    EXPECT_EQ(Base64Decode(Parse(RejectsLine("in.csv", bad, RawEcho::kAsRead)).at("raw_base64")),
              raw);
  }
}

TEST(RejectsLine, SaysWhenTheRawRowWasRewrittenOrWithheld) {
  const stages::InputError row{InputErrc::kBadFloat64, 2, 10, "amount", "\"oops\"", "1,abc,oops"};
  const auto rewritten = Parse(RejectsLine("in.csv", row, RawEcho::kRewritten));
  EXPECT_EQ(rewritten.at("raw"), "1,abc,oops");
  EXPECT_EQ(rewritten.at("raw_redacted"), "fields");
  const auto withheld =
      Parse(RejectsLine("in.csv", {InputErrc::kFieldCount, 2, 10, "", "", ""}, RawEcho::kWithheld));
  EXPECT_EQ(withheld.count("raw"), 0u);
  EXPECT_EQ(withheld.at("raw_redacted"), "row");
  EXPECT_EQ(Parse(RejectsLine("in.csv", row, RawEcho::kAsRead)).count("raw_redacted"), 0u);
}

}  // namespace
}  // namespace zcpipe::detail
