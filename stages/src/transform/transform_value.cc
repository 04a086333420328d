#include "transform/transform_value.h"

#include <charconv>

#include "values/values.h"

namespace zcpipe::stages::detail {

void ReadValue(const ColumnView& column, ColumnType type, std::uint32_t row, Value& out) {
  out = Value{};
  if (column.is_null(row)) return;
  out.null = false;
  switch (type) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      out.i = column.int64(row);
      break;
    case ColumnType::kFloat64:
      out.f = column.float64(row);
      break;
    case ColumnType::kBool:
      out.b = column.boolean(row);
      break;
    case ColumnType::kString:
      out.s = column.string(row);
      break;
  }
}

void AppendValue(ColumnBuffer& column, ColumnType type, const Value& value) {
  if (value.null) {
    column.AppendNull();
    return;
  }
  switch (type) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      column.AppendInt64(value.i);
      break;
    case ColumnType::kFloat64:
      column.AppendFloat64(value.f);
      break;
    case ColumnType::kBool:
      column.AppendBool(value.b);
      break;
    case ColumnType::kString:
      column.AppendString(value.s);
      break;
  }
}

void FormatValue(ColumnType type, const Value& value, std::string& out) {
  char buffer[32];  // an int64 needs 20 chars, a shortest double 24
  std::to_chars_result result{buffer, std::errc()};
  switch (type) {
    case ColumnType::kInt64:
      result = std::to_chars(buffer, buffer + sizeof buffer, value.i);
      break;
    case ColumnType::kFloat64:
      result.ptr = FormatFloat64(value.f, buffer);
      break;
    case ColumnType::kBool:
      out += value.b ? "true" : "false";
      return;
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      out += FormatTemporal(type, value.i);
      return;
    case ColumnType::kString:
      out += value.s;
      return;
  }
  out.append(buffer, result.ptr);
}

}  // namespace zcpipe::stages::detail
