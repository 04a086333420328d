// Text to typed values, shared by the CSV and JSON Lines parsers. No allocation, no locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages::detail {

// The rules by which a text is a value of a column type, shared by the CSV and JSON Lines
// parsers, the cast transform and type inference (type_inference.h). A parser never rounds:
// a text that the type cannot hold exactly is not a value of it (the row is rejected).

// "-12", "+7", "007" (leading zeros and a plus sign are allowed: the value is exact); no
// spaces, no exponent, nothing beyond int64.
std::optional<std::int64_t> ParseInt64(std::string_view text);
// The nearest double to a decimal or scientific text ("1.5", "-2e10", "inf", "nan"), rounded:
// for filter literals, which are compared, not stored. std::from_chars, so locale-free.
std::optional<double> ParseFloat64(std::string_view text);
// A float64 value: a finite decimal or scientific text ("4196.10", "-2e10", "+.5") whose
// number the double holds exactly, in the sense that the double's shortest decimal (what
// FormatFloat64, and so export, writes) is the same number: "4196.10" is 4196.1, but
// "0.10000000000000001" (prints as 0.1), "9007199254740993" (as 9007199254740992) and
// "1e400" are not float64 values, nor are "nan" and "inf" (float64 holds finite numbers only).
std::optional<double> ParseExactFloat64(std::string_view text);
// Writes the shortest decimal that reads back as `value` (std::to_chars) at `out` and returns
// the end: in the shorter of fixed and scientific notation, like std::to_chars, but never with
// more digits than that shortest decimal (to_chars writes 2^60 as 1152921504606846976; this,
// as 1.152921504606847e+18). So it writes the number that ParseExactFloat64 holds.
// REQUIRES: `out` has room for kFloat64Chars.
inline constexpr std::size_t kFloat64Chars = 32;
char* FormatFloat64(double value, char* out);
// Whether ParseExactFloat64 holds `value`'s decimal text (every integer up to 2^53 in size, and
// larger ones whose digits the double prints back): casts between int64 and float64.
bool Float64HoldsInt64(std::int64_t value);
// true/false, t/f, 1/0, yes/no, case-insensitive.
std::optional<bool> ParseBool(std::string_view text);
// The temporal types (docs/types.md), each in ISO 8601 and held in a ColumnBuffer's int64s:
//   date       "2024-03-01": days since 1970-01-01;
//   datetime   "2024-03-01T12:00:00.123456" (or " " for "T"), no zone: a local time, as
//              microseconds since 1970-01-01T00:00:00 of the same (unknown) zone;
//   timestamp  the same with "Z" or an offset ("+02:00"): an instant, as microseconds since
//              1970-01-01T00:00:00Z (the offset is applied and not kept).
// Years 0000-9999, microseconds at most. A text has at most one of these forms, so no text is
// two of these types: a date is no timestamp at midnight UTC, nor a local time an instant.
//
// The values a datetime or timestamp holds: 0000-01-01T00:00:00 to 9999-12-31T23:59:59.999999,
// in microseconds since 1970-01-01T00:00:00 (UTC for a timestamp), and the days a date holds.
inline constexpr std::int64_t kMinTimestamp = -62'167'219'200'000'000;
inline constexpr std::int64_t kMaxTimestamp = 253'402'300'799'999'999;
inline constexpr std::int64_t kMinDate = -719'528;   // 0000-01-01
inline constexpr std::int64_t kMaxDate = 2'932'896;  // 9999-12-31
[[nodiscard]] constexpr bool IsTimestamp(std::int64_t micros) {
  return micros >= kMinTimestamp && micros <= kMaxTimestamp;
}
// Whether `value` is in the range of the temporal `type` (a date's days, else microseconds).
[[nodiscard]] constexpr bool InTemporalRange(ColumnType type, std::int64_t value) {
  return type == ColumnType::kDate ? value >= kMinDate && value <= kMaxDate : IsTimestamp(value);
}
// The value of `text` as the temporal `type`, if `text` has that type's form and the type holds
// it. Never rounds: a fraction may have more than 6 digits only if they are zeros
// ("....123456000"), and a leap second (":60") or a value outside years 0000-9999 (an offset can
// take an instant there) is no value. REQUIRES: IsTemporal(type).
std::optional<std::int64_t> ParseTemporal(ColumnType type, std::string_view text);
// The temporal type whose form `text` has and which holds it, if any (for inference).
std::optional<ColumnType> TemporalTypeOf(std::string_view text);
// ParseTemporal(ColumnType::kTimestamp, text).
std::optional<std::int64_t> ParseTimestamp(std::string_view text);
// The inverse of ParseTemporal, in the canonical form: "2024-03-01", "2024-03-01T12:00:00.123456"
// and "2024-03-01T12:00:00.123456Z" (a fraction only when nonzero, "T", a timestamp in UTC).
// REQUIRES: IsTemporal(type), InTemporalRange(type, value).
std::string FormatTemporal(ColumnType type, std::int64_t value);
// FormatTemporal(ColumnType::kTimestamp, micros).
std::string FormatTimestamp(std::int64_t micros);
// Whether `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// The InputErrc for a value that does not parse as `type`.
InputErrc BadValueReason(ColumnType type);
// A value shortened for an error message, quoted: "\"12x\"".
std::string Quote(std::string_view value);
// Why `value`, a text of `type`'s form, is not a value of it, when it would lose something:
// "beyond int64", "float64 would make it 0.1", "float64 holds finite numbers only",
// "timestamps hold microseconds", "no zone: a timestamp needs Z or an offset", ... Empty when
// `value` is simply not of that form.
std::string LossNote(ColumnType type, std::string_view value);
// An error's detail for a bad value: Quote(shown) (the field as it is in the input), and the
// LossNote of `value` (its text) in parentheses when there is one.
std::string BadValueDetail(ColumnType type, std::string_view shown, std::string_view value);
// The detail for an integer taken as the temporal `type`'s number (JSON Lines, cast from int64)
// that is not InTemporalRange: "\"99999999999999999\" (microseconds outside years 0000-9999)",
// "... (days outside years 0000-9999)".
std::string RangeDetail(ColumnType type, std::string_view shown);

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
[[nodiscard]] bool IsJsonNumber(std::string_view text);
// A JSON number without fraction or exponent. REQUIRES: IsJsonNumber(text).
[[nodiscard]] bool IsJsonInteger(std::string_view text);

}  // namespace zcpipe::stages::detail
