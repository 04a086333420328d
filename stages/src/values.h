// Text to typed values, shared by the CSV and JSON Lines parsers. No allocation, no locale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages::detail {

// "-12", "+7"; no spaces, no exponent, no overflow.
std::optional<std::int64_t> ParseInt64(std::string_view text);
// Decimal or scientific ("1.5", "-2e10", "inf", "nan"); std::from_chars, so locale-free.
std::optional<double> ParseFloat64(std::string_view text);
// true/false, t/f, 1/0, yes/no, case-insensitive.
std::optional<bool> ParseBool(std::string_view text);
// ISO 8601: "2024-03-01", "2024-03-01T12:00:00", "...T12:00:00.123456", with "Z" or "+02:00",
// "T" or " " between date and time. Returns microseconds since the Unix epoch, UTC.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);
// The inverse of ParseTimestamp: "2024-03-01T12:00:00.123456Z" (fraction only when nonzero).
std::string FormatTimestamp(std::int64_t micros);
// Whether `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// The InputErrc for a value that does not parse as `type`.
InputErrc BadValueReason(ColumnType type);
// A value shortened for an error message, quoted: "\"12x\"".
std::string Quote(std::string_view value);

}  // namespace zcpipe::stages::detail
