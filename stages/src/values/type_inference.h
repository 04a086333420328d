// The rule by which a column without a declared type gets one, shared by the CSV and JSON Lines
// parsers: the most specific type that keeps every value seen, so that an export writes each
// value back as it was (or in its canonical spelling: 4196.10 as 4196.1, TRUE as true).
#pragma once

#include <cstdint>
#include <string_view>

#include "zcpipe/stages/schema.h"

namespace zcpipe::stages::detail {

// A set of the column types other than string, as bits. String keeps every value: it is what
// a column gets when no other type keeps all of them.
enum TypeSet : std::uint8_t {
  kNoType = 0,
  kInt64Type = 1,
  kFloat64Type = 2,
  kBoolType = 4,
  kTimestampType = 8,
  kDateType = 16,
  kDateTimeType = 32,
  kTemporalTypes = kTimestampType | kDateType | kDateTimeType,
  kAnyType = 63,
};

// The types that keep `text` (values.h's parsers, stricter where a reading would drop what the
// text says):
//   int64      an integer in int64 range without leading zeros ("00123" is an identifier:
//              as a number it would be 123; "9223372036854775808" is beyond int64);
//   float64    a number without leading zeros that a double holds as written
//              (detail::ParseExactFloat64: not 0.10000000000000001, nor nan or inf);
//   bool       true or false in any case (not t, yes, 1: those would come back as true);
//   date, datetime, timestamp
//              detail::TemporalTypeOf: the one whose form the text has, at most microseconds
//              (a finer fraction stays text). No text is two of them: a column of dates and
//              times, or of local times and instants, is string (a date is no midnight UTC).
// Thread-safe, no allocation.
[[nodiscard]] std::uint8_t TypesKeeping(std::string_view text);

// The most specific type in `types`: int64, float64, bool, date, datetime, timestamp, else
// string.
[[nodiscard]] ColumnType MostSpecific(std::uint8_t types);

}  // namespace zcpipe::stages::detail
