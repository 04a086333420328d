#include <charconv>
#include <cmath>

#include "values/values.h"
#include "zcpipe/stages/export.h"

namespace zcpipe::stages {

void AppendCsvString(std::string_view value, char delimiter, std::string& out) {
  const bool quote = value.empty() || value.find_first_of("\"\r\n") != std::string_view::npos ||
                     value.find(delimiter) != std::string_view::npos || value.front() == ' ' ||
                     value.back() == ' ';
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void AppendJsonString(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // U+2028 and U+2029 (LINE / PARAGRAPH SEPARATOR): valid in JSON strings, not in JavaScript's.
  static constexpr std::string_view kLineSeparator = "\xE2\x80\xA8";
  static constexpr std::string_view kParagraphSeparator = "\xE2\x80\xA9";
  out += '"';
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else if (c == '\xE2' && (value.substr(i, 3) == kLineSeparator ||
                                   value.substr(i, 3) == kParagraphSeparator)) {
          out += value[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

namespace {

void AppendInt64(std::int64_t value, std::string& out) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out.append(text, end);
}

// Appends a non-null value of `column` as text; strings through `append_string`.
template <class AppendString>
void AppendValue(const ColumnView& column, std::uint32_t row, std::string& out,
                 AppendString&& append_string) {
  switch (column.type()) {
    case ColumnType::kInt64:
      AppendInt64(column.int64(row), out);
      break;
    case ColumnType::kFloat64: {
      char text[detail::kFloat64Chars];
      out.append(text, detail::FormatFloat64(column.float64(row), text));
      break;
    }
    case ColumnType::kBool:
      out += column.boolean(row) ? "true" : "false";
      break;
    case ColumnType::kString:
      append_string(column.string(row));
      break;
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      append_string(detail::FormatTemporal(column.type(), column.int64(row)));
      break;
  }
}

}  // namespace

void BatchFormatter::AppendHeader(const Schema& schema, std::string& out) const {
  if (options_.format != ExportFormat::kCsv || !options_.header) return;
  for (std::size_t c = 0; c < schema.size(); ++c) {
    if (c > 0) out += options_.delimiter;
    AppendCsvString(schema[c].name, options_.delimiter, out);
  }
  out += '\n';
}

void BatchFormatter::Append(const BatchView& batch, std::string& out) const {
  const std::size_t columns = batch.column_count();
  const bool csv = options_.format == ExportFormat::kCsv;
  for (std::uint32_t row = 0; row < batch.row_count(); ++row) {
    if (!csv) out += '{';
    for (std::size_t c = 0; c < columns; ++c) {
      const ColumnView column = batch.column(c);
      if (csv) {
        if (c > 0) out += options_.delimiter;
        if (column.is_null(row)) continue;
        AppendValue(column, row, out,
                    [&](std::string_view s) { AppendCsvString(s, options_.delimiter, out); });
        continue;
      }
      if (c > 0) out += ',';
      AppendJsonString(column.name(), out);
      out += ':';
      const bool not_finite =
          column.type() == ColumnType::kFloat64 && !std::isfinite(column.float64(row));
      if (column.is_null(row) || not_finite) {
        out += "null";
        continue;
      }
      AppendValue(column, row, out, [&](std::string_view s) { AppendJsonString(s, out); });
    }
    out += csv ? "\n" : "}\n";
  }
}

}  // namespace zcpipe::stages
