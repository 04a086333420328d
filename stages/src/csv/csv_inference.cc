#include "csv/csv_inference.h"

#include "csv/csv_scan.h"
#include "csv/record_splitter.h"
#include "values/type_inference.h"

namespace zcpipe::stages::detail {

std::optional<std::string_view> DecimalPoint(std::string_view value, std::string& scratch) {
  if (value.find('.') != std::string_view::npos) return std::nullopt;
  const std::size_t comma = value.find(',');
  if (comma == std::string_view::npos) return value;
  scratch.assign(value);
  scratch[comma] = '.';
  return scratch;
}

std::uint8_t TypesKeeping(std::string_view value, bool decimal_comma, std::string& scratch) {
  std::uint8_t types = TypesKeeping(value);
  if (!decimal_comma) return types;
  types &= static_cast<std::uint8_t>(~kFloat64Type);
  if (const auto text = DecimalPoint(value, scratch)) {
    types |= TypesKeeping(*text) & kFloat64Type;
  }
  return types;
}

ColumnType InferType(const std::vector<std::string>& values, bool decimal_comma) {
  bool any = false;
  std::uint8_t types = kAnyType;
  std::string scratch;
  for (const auto& v : values) {
    if (v.empty()) continue;
    any = true;
    types &= TypesKeeping(v, decimal_comma, scratch);
  }
  return any ? MostSpecific(types) : ColumnType::kString;
}

std::vector<std::vector<std::string>> FirstRecords(std::string_view text, char delimiter,
                                                   char quote, std::size_t max_records) {
  std::vector<std::uint32_t> separators;
  const auto summary = FindSeparators(text.data(), text.size(), delimiter, quote, separators);
  std::vector<std::vector<std::string>> records;
  std::vector<Field> fields;
  std::string scratch;
  ForEachRecord(
      text.data(), static_cast<std::uint32_t>(text.size()), separators, summary.any_quote, fields,
      [&](const Record& record) {
        auto& row = records.emplace_back();
        for (const Field& field : record.fields) {
          const std::string_view raw = text.substr(field.begin, field.end - field.begin);
          std::string_view value = raw;
          bool quoted = false;
          if (summary.any_quote && DecodeField(raw, quote, false, scratch, value, quoted)) {
            value = raw;  // malformed: the parser rejects the row
          }
          row.emplace_back(value);
        }
        return records.size() < max_records;
      });
  return records;
}

}  // namespace zcpipe::stages::detail
