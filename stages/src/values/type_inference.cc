#include "values/type_inference.h"

#include "values/values.h"

namespace zcpipe::stages::detail {
namespace {

// "007", "-00.5", "0049301234567": a zero followed by a digit at the start of the number.
bool HasLeadingZero(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return text.size() > 1 && text[0] == '0' && text[1] >= '0' && text[1] <= '9';
}

bool IsTrueOrFalse(std::string_view text) {
  return (text.size() == 4 || text.size() == 5) && ParseBool(text).has_value();
}

std::uint8_t TypeBit(ColumnType temporal) {
  switch (temporal) {
    case ColumnType::kDate:
      return kDateType;
    case ColumnType::kDateTime:
      return kDateTimeType;
    default:
      return kTimestampType;
  }
}

}  // namespace

std::uint8_t TypesKeeping(std::string_view text) {
  std::uint8_t types = kNoType;
  if (!HasLeadingZero(text)) {
    if (ParseInt64(text)) types |= kInt64Type;
    if (ParseExactFloat64(text)) types |= kFloat64Type;
  }
  if (IsTrueOrFalse(text)) types |= kBoolType;
  if (const auto temporal = TemporalTypeOf(text)) types |= TypeBit(*temporal);
  return types;
}

ColumnType MostSpecific(std::uint8_t types) {
  if (types & kInt64Type) return ColumnType::kInt64;
  if (types & kFloat64Type) return ColumnType::kFloat64;
  if (types & kBoolType) return ColumnType::kBool;
  if (types & kDateType) return ColumnType::kDate;
  if (types & kDateTimeType) return ColumnType::kDateTime;
  if (types & kTimestampType) return ColumnType::kTimestamp;
  return ColumnType::kString;
}

}  // namespace zcpipe::stages::detail
