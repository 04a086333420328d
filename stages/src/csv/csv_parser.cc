#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "csv/csv_inference.h"
#include "csv/csv_scan.h"
#include "csv/record_splitter.h"
#include "values/type_inference.h"
#include "values/values.h"
#include "zcpipe/stages/csv.h"

namespace zcpipe::stages {
namespace {

constexpr std::size_t kInferenceRows = 10'000;

using detail::Field;
using detail::Record;

// Appends `value` to `column`; the reason if it does not fit the column's type.
// `decimal_comma`: a float's decimal separator is ',' (DecimalPoint, in `scratch`).
std::optional<InputErrc> Append(ColumnBuffer& column, std::string_view value, bool quoted,
                                bool check_utf8, bool decimal_comma, std::string& scratch) {
  if (value.empty() && !quoted) {
    column.AppendNull();
    return std::nullopt;
  }
  switch (column.type()) {
    case ColumnType::kInt64:
      if (const auto v = detail::ParseInt64(value)) return column.AppendInt64(*v), std::nullopt;
      break;
    case ColumnType::kFloat64: {
      const auto text = decimal_comma ? detail::DecimalPoint(value, scratch) : value;
      if (const auto v = text ? detail::ParseExactFloat64(*text) : std::nullopt) {
        return column.AppendFloat64(*v), std::nullopt;
      }
      break;
    }
    case ColumnType::kBool:
      if (const auto v = detail::ParseBool(value)) return column.AppendBool(*v), std::nullopt;
      break;
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      if (const auto v = detail::ParseTemporal(column.type(), value)) {
        return column.AppendInt64(*v), std::nullopt;
      }
      break;
    case ColumnType::kString:
      if (!check_utf8 || detail::IsValidUtf8(value))
        return column.AppendString(value), std::nullopt;
      break;
  }
  return detail::BadValueReason(column.type());
}

std::string_view FieldText(std::string_view text, const Field& field) {
  return text.substr(field.begin, field.end - field.begin);
}

// An unterminated quote's detail: the quote and the line it opened on.
std::string UnterminatedDetail(char quote, std::uint64_t line) {
  return std::string("the quote ") + quote + " opened on line " + std::to_string(line) +
         " is never closed";
}

}  // namespace

CsvParser::CsvParser(CsvOptions options, Schema schema, std::vector<int> field_to_column,
                     std::size_t field_count)
    : options_(std::move(options)),
      schema_(std::move(schema)),
      field_to_column_(std::move(field_to_column)),
      field_count_(field_count) {
  for (const auto& column : schema_.columns()) columns_.emplace_back(column.name, column.type);
}

CsvParser CsvParser::Create(const CsvOptions& options, const Chunk& first_chunk) {
  const auto records = detail::FirstRecords(detail::CsvText(first_chunk), options.delimiter,
                                            options.quote, kInferenceRows + 1);
  std::vector<std::string> names;
  if (options.header && !records.empty()) names = records.front();
  const std::size_t data_start = options.header ? 1 : 0;

  if (options.schema) {
    const Schema& schema = *options.schema;
    if (names.empty()) {  // no header: fields map to columns by position
      std::vector<int> identity(schema.size());
      for (std::size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<int>(i);
      return CsvParser(options, schema, std::move(identity), schema.size());
    }
    std::vector<int> field_to_column(names.size(), -1);
    for (std::size_t c = 0; c < schema.size(); ++c) {
      const auto it = std::find(names.begin(), names.end(), schema[c].name);
      if (it == names.end()) {
        throw std::invalid_argument("schema column '" + schema[c].name +
                                    "' is not in the CSV header");
      }
      field_to_column[static_cast<std::size_t>(it - names.begin())] = static_cast<int>(c);
    }
    return CsvParser(options, schema, std::move(field_to_column), names.size());
  }

  if (records.size() <= data_start && names.empty()) {
    throw std::invalid_argument("cannot infer a schema from an empty input: give one");
  }
  const std::size_t field_count = names.empty() ? records.front().size() : names.size();
  std::vector<ColumnSpec> columns;
  std::vector<int> identity;
  for (std::size_t f = 0; f < field_count; ++f) {
    std::vector<std::string> values;
    for (std::size_t r = data_start; r < records.size(); ++r) {
      if (records[r].size() == field_count) values.push_back(records[r][f]);
    }
    std::string name = names.empty() ? "column_" + std::to_string(f + 1) : names[f];
    columns.push_back({std::move(name), detail::InferType(values, options.decimal_comma)});
    identity.push_back(static_cast<int>(f));
  }
  return CsvParser(options, Schema(std::move(columns)), std::move(identity), field_count);
}

StageResult<ParseOutput> CsvParser::Parse(const Chunk& chunk, std::span<std::byte> block) {
  const std::string_view text = detail::CsvText(chunk);
  const auto skipped = static_cast<std::uint32_t>(chunk.bytes.size() - text.size());
  for (auto& column : columns_) column.Clear();
  row_lines_.clear();
  separators_.clear();
  const auto summary = detail::FindSeparators(text.data(), text.size(), options_.delimiter,
                                              options_.quote, separators_);

  ParseOutput out;
  const std::size_t budget = block.size();
  std::size_t bound = BatchSizeBound(columns_, 0);
  std::uint64_t line = 0;     // newlines in text[0, counted), i.e. lines before it
  std::uint32_t counted = 0;  // where the last record read ends
  bool header_pending = options_.header && chunk.first_byte == 0;
  std::vector<Field> fields;
  std::vector<Field> values(schema_.size());  // per schema column: the field holding it
  out.bytes_consumed = chunk.bytes.size();

  auto reject = [&](const Record& record, InputErrc reason, std::string column,
                    std::string detail) {
    out.rejected.push_back({reason, chunk.first_line + record.line,
                            chunk.first_byte + skipped + record.begin, std::move(column),
                            std::move(detail),
                            std::string(text.substr(record.begin, record.end - record.begin))});
  };
  const std::size_t empty_bound = bound;

  detail::ForEachRecord(
      text.data(), static_cast<std::uint32_t>(text.size()), separators_, summary.any_quote, fields,
      [&](const Record& record) {
        line = record.next_line;
        counted = record.next;
        if (summary.ends_in_quote && record.next == text.size()) {
          // The text ends inside the quotes its last field opened: the rest of the input.
          const std::uint32_t opened = record.fields.back().begin;
          reject(record, InputErrc::kUnterminatedQuote, {},
                 UnterminatedDetail(
                     options_.quote,
                     chunk.first_line + record.line +
                         detail::CountNewlines(text.data() + record.begin, opened - record.begin)));
          return true;
        }
        if (header_pending) {
          header_pending = false;
          return true;
        }
        if (record.fields.size() != field_count_) {
          reject(record, InputErrc::kFieldCount, {},
                 "expected " + std::to_string(field_count_) + " fields, found " +
                     std::to_string(record.fields.size()));
          return true;
        }
        std::size_t cost = kRowSizeBound;
        for (std::size_t f = 0; f < field_count_; ++f) {
          if (const int c = field_to_column_[f]; c >= 0) {
            values[static_cast<std::size_t>(c)] = record.fields[f];
            cost += ValueSizeBound(columns_[static_cast<std::size_t>(c)].type(),
                                   record.fields[f].end - record.fields[f].begin);
          }
        }
        if (empty_bound + cost > budget) {  // would not fit even an empty block
          reject(record, InputErrc::kRecordTooLarge, {},
                 std::to_string(record.end - record.begin) + " bytes");
          return true;
        }
        if (bound + cost > budget) {  // the block is full: the caller parses the rest elsewhere
          out.bytes_consumed = skipped + record.begin;
          out.lines_consumed = record.line;
          return false;
        }
        for (std::size_t c = 0; c < columns_.size(); ++c) {
          std::string_view value = FieldText(text, values[c]);
          bool quoted = false;
          // Without a quote in the chunk a field is its text: no call, whose out-parameters
          // came back through memory with a stall per field.
          auto problem = summary.any_quote
                             ? detail::DecodeField(value, options_.quote, options_.strict,
                                                   unescaped_, value, quoted)
                             : std::nullopt;
          if (!problem) {
            problem = Append(columns_[c], value, quoted, summary.non_ascii, options_.decimal_comma,
                             decimal_);
          }
          if (problem) {
            for (std::size_t k = 0; k < c; ++k) columns_[k].PopBack();
            const ColumnType type = columns_[c].type();
            const std::string_view field = FieldText(text, values[c]);
            reject(record, *problem, columns_[c].name(),
                   *problem == detail::BadValueReason(type)
                       ? detail::BadValueDetail(type, field, value)
                       : detail::Quote(field));
            return true;
          }
        }
        bound += cost;
        row_lines_.push_back(static_cast<std::uint32_t>(record.line));
        ++out.rows_out;
        return true;
      });

  if (out.bytes_consumed == chunk.bytes.size()) {  // all of it: count the trailing blank lines
    out.lines_consumed = line + detail::CountNewlines(text.data() + counted, text.size() - counted);
  }
  auto batch =
      WriteBatch(block, {chunk.index, chunk.first_line, chunk.first_byte}, columns_, row_lines_);
  if (!batch) return tl::unexpected(batch.error());
  out.batch = *batch;
  return out;
}

}  // namespace zcpipe::stages
