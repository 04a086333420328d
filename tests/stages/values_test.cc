#include "values/values.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
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

// Issue 22: a float64 value is a text whose number the double prints back (std::to_chars,
// shortest); other spellings of that number are fine.
TEST(Values, ExactFloat64HoldsWhatThePrintedDoubleSaysAndNothingElse) {
  EXPECT_EQ(ParseExactFloat64("4196.10"), 4196.1);
  EXPECT_EQ(ParseExactFloat64("+.5"), 0.5);
  EXPECT_EQ(ParseExactFloat64("1E+3"), 1000.0);
  EXPECT_EQ(ParseExactFloat64("0.30000000000000004"), 0.1 + 0.2);
  EXPECT_EQ(ParseExactFloat64("1.7976931348623157e308"), std::numeric_limits<double>::max());
  EXPECT_EQ(ParseExactFloat64("5e-324"), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(ParseExactFloat64("9007199254740992"), 9007199254740992.0);
  EXPECT_EQ(ParseExactFloat64("00001234567890123456700000e-10"), 123456789012.34567);
  EXPECT_TRUE(std::signbit(*ParseExactFloat64("-0.000e7")));
  for (const char* lossy : {"0.1000000000000000055511151231257827",
                            "9007199254740993",
                            "99999999999999999999999",
                            "0.10000000000000001",
                            "1152921504606846976",
                            "1e400",
                            "-1e400",
                            "1e-400",
                            "4.9e-324",
                            "nan",
                            "NaN",
                            "-nan",
                            "inf",
                            "-inf",
                            "Infinity",
                            "infinity",
                            "0x1p3",
                            "1e",
                            "",
                            "-"}) {
    EXPECT_FALSE(ParseExactFloat64(lossy)) << lossy;
  }
  // Any double's shortest text is held, in either notation.
  std::mt19937_64 random(22);
  for (int i = 0; i < 100000; ++i) {
    double value = 0;
    const std::uint64_t bits = random();
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    char text[32];
    const auto format = i % 2 ? std::chars_format::general : std::chars_format::scientific;
    const auto end = std::to_chars(text, text + sizeof text, value, format).ptr;
    const auto parsed = ParseExactFloat64({text, end});
    ASSERT_TRUE(parsed) << std::string(text, end);
    ASSERT_EQ(std::memcmp(&*parsed, &value, sizeof value), 0) << std::string(text, end);
  }
}

// FormatFloat64 writes what ParseExactFloat64 holds: the shortest decimal, never the binary
// value's digits that std::to_chars writes for a large integral double.
TEST(Values, Float64IsWrittenAsItsShortestDecimal) {
  const auto format = [](double value) {
    char text[kFloat64Chars];
    return std::string(text, FormatFloat64(value, text));
  };
  EXPECT_EQ(format(4196.1), "4196.1");
  EXPECT_EQ(format(100), "100");
  EXPECT_EQ(format(1e5), "1e+05");
  EXPECT_EQ(format(-0.0), "-0");
  EXPECT_EQ(format(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(format(0x1p60), "1.152921504606847e+18");  // to_chars: 1152921504606846976
  EXPECT_EQ(format(-123456789012345683968.0), "-1.2345678901234568e+20");
  EXPECT_EQ(format(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  std::mt19937_64 random(53);
  for (int i = 0; i < 100000; ++i) {
    // Integral doubles from 2^53 to 2^73, where to_chars writes fixed notation.
    const double value = std::ldexp(static_cast<double>(random() >> 11), 1 + i % 21);
    const std::string text = format(value);
    ASSERT_EQ(ParseExactFloat64(text), value) << text;
  }
}

TEST(Values, Float64HoldsAnInt64WhoseDigitsItPrintsBack) {
  EXPECT_TRUE(Float64HoldsInt64(0));
  EXPECT_TRUE(Float64HoldsInt64(9007199254740992));
  EXPECT_TRUE(Float64HoldsInt64(-9007199254740992));
  EXPECT_TRUE(Float64HoldsInt64(100000000000000000));  // prints as 1e+17
  EXPECT_FALSE(Float64HoldsInt64(9007199254740993));
  EXPECT_FALSE(Float64HoldsInt64(std::int64_t{1} << 60));  // prints as 1.152921504606847e+18
  EXPECT_FALSE(Float64HoldsInt64(INT64_MAX));
}

// What tells a rejected value's error message apart.
TEST(Values, ALossNoteSaysWhatTheTypeWouldChange) {
  EXPECT_EQ(LossNote(ColumnType::kInt64, "+9223372036854775808"), "beyond int64");
  EXPECT_EQ(LossNote(ColumnType::kInt64, "12x"), "");
  EXPECT_EQ(LossNote(ColumnType::kFloat64, "9007199254740993"),
            "float64 would make it 9007199254740992");
  EXPECT_EQ(LossNote(ColumnType::kFloat64, "-Infinity"), "float64 holds finite numbers only");
  EXPECT_EQ(LossNote(ColumnType::kFloat64, "1e-999"), "beyond float64");
  EXPECT_EQ(LossNote(ColumnType::kFloat64, "1,5"), "");
  EXPECT_EQ(LossNote(ColumnType::kTimestamp, "2024-01-01 00:00:00.0000001Z"),
            "timestamps hold microseconds");
  EXPECT_EQ(LossNote(ColumnType::kTimestamp, "2024-02-30"), "");
  EXPECT_EQ(LossNote(ColumnType::kBool, "maybe"), "");
  EXPECT_EQ(BadValueDetail(ColumnType::kInt64, "\"99999999999999999999\"", "99999999999999999999"),
            "\"\"99999999999999999999\"\" (beyond int64)");
  EXPECT_EQ(RangeDetail(ColumnType::kTimestamp, "-62167219200000001"),
            "\"-62167219200000001\" (microseconds outside years 0000-9999)");
  EXPECT_EQ(RangeDetail(ColumnType::kDate, "2932897"),
            "\"2932897\" (days outside years 0000-9999)");
}

TEST(Values, Bools) {
  for (const char* yes : {"true", "TRUE", "t", "1", "yes", "Yes"}) EXPECT_EQ(ParseBool(yes), true);
  for (const char* no : {"false", "F", "0", "no"}) EXPECT_EQ(ParseBool(no), false);
  for (const char* bad : {"", "2", "tru", "nope"}) EXPECT_FALSE(ParseBool(bad)) << bad;
}

TEST(Values, TimestampsInIso8601) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00Z"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01 12:00:00Z"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T14:00:00+02:00"), 1709294400000000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.5Z"), 1709294400500000);
  EXPECT_EQ(ParseTimestamp("2024-02-29T00:00:00-00:00"), 1709164800000000);  // leap day
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -1000000);
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-01",
                          "2024-01-01T25:00:00", "2024-01-01T12:00", "2024-01-01X", "",
                          "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00+2:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
  for (const std::int64_t micros : std::initializer_list<std::int64_t>{
           0, 1709294400500000, -1000000, 253402300799000000, kMinTimestamp, kMaxTimestamp}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(micros)), micros) << FormatTimestamp(micros);
  }
  EXPECT_EQ(FormatTimestamp(kMinTimestamp), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(kMaxTimestamp), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(1709294400500000), "2024-03-01T12:00:00.500000Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
}

// Issue 22: a timestamp is never rounded. Digits beyond microseconds must be zeros; a leap
// second and an instant outside years 0000-9999 (which FormatTimestamp could not write as
// ParseTimestamp reads) are not timestamps.
TEST(Values, TimestampsAreNeverRounded) {
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.123456000Z"), 1709294400123456);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.1000000000000000000000Z"), 1709294400100000);
  EXPECT_EQ(ParseTimestamp("0000-01-01T00:00:00Z"), kMinTimestamp);
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999999Z"), kMaxTimestamp);
  EXPECT_EQ(ParseTimestamp("0000-01-01T00:30:00+00:30"), kMinTimestamp);
  for (const char* lossy : {"2024-03-01T12:00:00.123456789Z", "2024-03-01T12:00:00.0000001Z",
                            "2024-03-01 12:00:00.1234561+02:00", "2016-12-31T23:59:60Z",
                            "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"}) {
    EXPECT_FALSE(ParseTimestamp(lossy)) << lossy;
  }
  EXPECT_TRUE(IsTimestamp(kMaxTimestamp));
  EXPECT_FALSE(IsTimestamp(kMaxTimestamp + 1));
  EXPECT_FALSE(IsTimestamp(kMinTimestamp - 1));
}

// Issue 25: a date, a local time without zone and an instant are three types, each of its own
// ISO 8601 form: a date is no midnight UTC, a local time no UTC time.
TEST(Values, ADateALocalTimeAndAnInstantAreEachOfTheirOwnForm) {
  EXPECT_EQ(ParseTemporal(ColumnType::kDate, "1970-01-01"), 0);
  EXPECT_EQ(ParseTemporal(ColumnType::kDate, "2024-02-29"), 19782);
  EXPECT_EQ(ParseTemporal(ColumnType::kDate, "1969-12-31"), -1);
  EXPECT_EQ(ParseTemporal(ColumnType::kDate, "0000-01-01"), kMinDate);
  EXPECT_EQ(ParseTemporal(ColumnType::kDate, "9999-12-31"), kMaxDate);
  EXPECT_EQ(ParseTemporal(ColumnType::kDateTime, "2024-03-01T12:00:00"), 1709294400000000);
  EXPECT_EQ(ParseTemporal(ColumnType::kDateTime, "2024-03-01 12:00:00.5"), 1709294400500000);
  EXPECT_EQ(ParseTemporal(ColumnType::kDateTime, "0000-01-01T00:00:00"), kMinTimestamp);
  EXPECT_EQ(ParseTemporal(ColumnType::kDateTime, "9999-12-31T23:59:59.999999000"), kMaxTimestamp);
  for (const char* text : {"2024-03-01", "2024-03-01T12:00:00", "2024-03-01 12:00:00.5",
                           "2024-03-01T12:00:00Z", "2024-03-01T12:00:00+02:00"}) {
    const auto type = TemporalTypeOf(text);
    ASSERT_TRUE(type) << text;
    for (const auto other : {ColumnType::kDate, ColumnType::kDateTime, ColumnType::kTimestamp}) {
      EXPECT_EQ(ParseTemporal(other, text).has_value(), other == *type) << text;
    }
  }
  EXPECT_EQ(TemporalTypeOf("2024-03-01"), ColumnType::kDate);
  EXPECT_EQ(TemporalTypeOf("2024-03-01 12:00:00"), ColumnType::kDateTime);
  EXPECT_EQ(TemporalTypeOf("2024-03-01T12:00:00-05:30"), ColumnType::kTimestamp);
  for (const char* bad : {"2012-02-30", "2012-13-01", "2023-02-29", "2012-01-01T25:00",
                          "2012-01-01T25:00:00", "2012-01-01T10:00", "2016-12-31T23:59:60",
                          "2012-01-01T00:00:00.123456789", "20120101", "2012-01-01T", ""}) {
    EXPECT_FALSE(TemporalTypeOf(bad)) << bad;
  }
}

TEST(Values, EachTemporalTypeIsWrittenInItsCanonicalForm) {
  EXPECT_EQ(FormatTemporal(ColumnType::kDate, 0), "1970-01-01");
  EXPECT_EQ(FormatTemporal(ColumnType::kDate, -1), "1969-12-31");
  EXPECT_EQ(FormatTemporal(ColumnType::kDate, kMinDate), "0000-01-01");
  EXPECT_EQ(FormatTemporal(ColumnType::kDate, kMaxDate), "9999-12-31");
  EXPECT_EQ(FormatTemporal(ColumnType::kDateTime, 1709294400500000), "2024-03-01T12:00:00.500000");
  EXPECT_EQ(FormatTemporal(ColumnType::kDateTime, kMinTimestamp), "0000-01-01T00:00:00");
  EXPECT_EQ(FormatTemporal(ColumnType::kTimestamp, 1709294400000000), "2024-03-01T12:00:00Z");
  for (const auto type : {ColumnType::kDate, ColumnType::kDateTime, ColumnType::kTimestamp}) {
    const std::int64_t lo = type == ColumnType::kDate ? kMinDate : kMinTimestamp;
    const std::int64_t hi = type == ColumnType::kDate ? kMaxDate : kMaxTimestamp;
    for (const std::int64_t value : {lo, lo + 1, std::int64_t{-1}, std::int64_t{0}, hi - 1, hi}) {
      EXPECT_EQ(ParseTemporal(type, FormatTemporal(type, value)), value)
          << FormatTemporal(type, value);
      EXPECT_TRUE(InTemporalRange(type, value));
    }
    EXPECT_FALSE(InTemporalRange(type, lo - 1));
    EXPECT_FALSE(InTemporalRange(type, hi + 1));
  }
}

// A value of another temporal form says which, so that the user can declare the right type.
TEST(Values, ALossNoteNamesTheTemporalFormAValueHas) {
  EXPECT_EQ(LossNote(ColumnType::kTimestamp, "2024-03-01T12:00:00"),
            "no zone: a timestamp needs Z or an offset");
  EXPECT_EQ(LossNote(ColumnType::kTimestamp, "2024-03-01"),
            "no zone: a timestamp needs Z or an offset");
  EXPECT_EQ(LossNote(ColumnType::kDateTime, "2024-03-01T12:00:00Z"),
            "a zone: a datetime is a local time");
  EXPECT_EQ(LossNote(ColumnType::kDateTime, "2024-03-01"), "no time of day: a datetime needs one");
  EXPECT_EQ(LossNote(ColumnType::kDate, "2024-03-01 00:00:00"), "a time of day: a date holds days");
  EXPECT_EQ(LossNote(ColumnType::kDateTime, "2024-03-01T12:00:00.0000001"),
            "datetimes hold microseconds");
  EXPECT_EQ(LossNote(ColumnType::kDateTime, "2016-12-31T23:59:60"), "no leap seconds");
  EXPECT_EQ(LossNote(ColumnType::kDate, "2024-02-30"), "");
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
