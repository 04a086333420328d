#include "values.h"

#include <charconv>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace zcpipe::stages::detail {
namespace {

TEST(Values, Int64AtItsLimitsAndNotBeyond) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("+7"), 7);
  EXPECT_EQ(ParseInt64("-12"), -12);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseInt64("123456789012345678"), 123456789012345678);
  for (const char* bad : {"", "-", "+", "9223372036854775808", "-9223372036854775809", "1.0", "12x",
                          " 1", "1 ", "0x10", "--1"}) {
    EXPECT_FALSE(ParseInt64(bad)) << bad;
  }
}

// One sign at most, also past 18 digits, where std::from_chars (which takes a '-') does the
// work. The fuzzer found "--09223372036854775808", which negated INT64_MIN.
TEST(Values, Int64TakesOneSignOnlyAtAnyLength) {
  for (const char* bad : {"--09223372036854775808", "--1234567890123456789",
                          "+-1234567890123456789", "-+1234567890123456789", "+-1", "-+1"}) {
    EXPECT_FALSE(ParseInt64(bad)) << bad;
  }
  EXPECT_EQ(ParseInt64("-0009223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseInt64("+0001234567890123456789"), 1234567890123456789);
}

// The fast path must give exactly what std::from_chars gives.
TEST(Values, Float64FastPathIsCorrectlyRounded) {
  std::mt19937_64 random(7);
  for (int i = 0; i < 200000; ++i) {
    const auto whole = random() % 1'000'000'000;
    const auto fraction = random() % 1'000'000;
    const int places = static_cast<int>(random() % 7);
    std::string text = (random() % 2 ? "-" : "") + std::to_string(whole);
    if (places > 0) {
      std::string digits = std::to_string(fraction);
      digits.resize(static_cast<std::size_t>(places), '0');
      text += "." + digits;
    }
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    const auto parsed = ParseFloat64(text);
    ASSERT_TRUE(parsed) << text;
    ASSERT_EQ(*parsed, expected) << text;
  }
  EXPECT_EQ(ParseFloat64("-2e10"), -2e10);
  EXPECT_EQ(ParseFloat64(".5"), 0.5);
  EXPECT_EQ(ParseFloat64("+1.25"), 1.25);
  EXPECT_EQ(ParseFloat64("1234567890123456789"), 1234567890123456789.0);
  EXPECT_TRUE(std::isinf(*ParseFloat64("inf")));
  EXPECT_TRUE(std::signbit(*ParseFloat64("-0")));
  for (const char* bad : {"", "-", "1..2", "1.2.3", "abc", "1,5", " 1", "1e"}) {
    EXPECT_FALSE(ParseFloat64(bad)) << bad;
  }
}

TEST(Values, Bools) {
  for (const char* yes : {"true", "TRUE", "t", "1", "yes", "Yes"}) EXPECT_EQ(ParseBool(yes), true);
  for (const char* no : {"false", "F", "0", "no"}) EXPECT_EQ(ParseBool(no), false);
  for (const char* bad : {"", "2", "tru", "nope"}) EXPECT_FALSE(ParseBool(bad)) << bad;
}

TEST(Values, TimestampsInIso8601) {
  EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00Z"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01 12:00:00"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T14:00:00+02:00"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.5Z"), 1709294400500000);
  EXPECT_EQ(ParseTimestamp("2024-02-29"), 1709164800000000);  // leap day
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -1000000);
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-01",
                          "2024-01-01T25:00:00", "2024-01-01T12:00", "2024-01-01X", "",
                          "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00+2:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
  for (const std::int64_t micros : {0LL, 1709294400500000LL, -1000000LL, 253402300799000000LL}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(micros)), micros) << FormatTimestamp(micros);
  }
  EXPECT_EQ(FormatTimestamp(1709294400500000), "2024-03-01T12:00:00.500000Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
}

TEST(Values, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  for (const char* bad : {"\xFF", "\xC3", "\xC0\xAF" /* overlong */, "\xED\xA0\x80" /* surrogate */,
                          "\xF4\x90\x80\x80" /* > U+10FFFF */, "\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad));
  }
}

}  // namespace
}  // namespace zcpipe::stages::detail
