#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "jsonl/jsonl_detail.h"
#include "values/values.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/jsonl.h"

namespace zcpipe::stages {

using jsonl::Fault;
namespace od = jsonl::od;

class JsonlParser::Impl {
 public:
  explicit Impl(JsonlOptions options);

  [[nodiscard]] const Schema& schema() const { return schema_; }
  [[nodiscard]] StageResult<ParseOutput> Parse(const Chunk& chunk, std::span<std::byte> block);

 private:
  // A fault with the column to blame (none: npos).
  struct RowFault {
    Fault fault;
    std::size_t column = kNoColumn;
  };
  static constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);

  // Appends one row from `json` to every column, or returns why not (columns unchanged).
  [[nodiscard]] std::optional<RowFault> ParseRow(simdjson::padded_string_view json);
  // Appends `value` to column `column`, or returns why not (column unchanged).
  [[nodiscard]] std::optional<Fault> Store(std::size_t column, od::value value);
  // Appends an array or object to string column `out` as its JSON text, checked first.
  [[nodiscard]] std::optional<Fault> StoreNested(ColumnBuffer& out, od::value value,
                                                 od::json_type kind);
  [[nodiscard]] std::optional<std::size_t> Find(std::string_view key);
  void UndoRow();

  Schema schema_;
  std::unordered_map<std::string_view, std::size_t> by_name_;  // views into schema_
  std::size_t next_column_ = 0;  // where the last key found was, plus one: keys mostly keep order

  // Scratch, reused across rows and chunks.
  std::vector<ColumnBuffer> columns_;
  std::vector<std::uint8_t> seen_;  // per column: this row has a value in it
  std::vector<std::uint32_t> row_lines_;
  od::parser parser_;
  jsonl::PaddedLine padded_;
  const char* padded_end_ = nullptr;  // the end of the current row's readable bytes
  od::parser nested_parser_;          // StoreNested's, while parser_ is mid-row
};

JsonlParser::Impl::Impl(JsonlOptions options) : schema_(std::move(options.schema)) {
  columns_.reserve(schema_.size());
  for (std::size_t i = 0; i < schema_.size(); ++i) {
    by_name_.emplace(schema_[i].name, i);
    columns_.emplace_back(schema_[i].name, schema_[i].type);
  }
  seen_.resize(schema_.size());
}

std::optional<std::size_t> JsonlParser::Impl::Find(std::string_view key) {
  if (next_column_ < schema_.size() && schema_[next_column_].name == key) return next_column_++;
  const auto it = by_name_.find(key);
  if (it == by_name_.end()) return std::nullopt;
  next_column_ = it->second + 1;
  return it->second;
}

void JsonlParser::Impl::UndoRow() {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (seen_[i] != 0) columns_[i].PopBack();
  }
}

StageResult<ParseOutput> JsonlParser::Impl::Parse(const Chunk& chunk, std::span<std::byte> block) {
  for (auto& column : columns_) column.Clear();
  row_lines_.clear();
  const std::size_t usable = block.size() & ~std::size_t{7};  // as WriteBatch counts it
  if (BatchSizeBound(columns_, 0) > usable) {
    return StageFail(StageErrc::kBatchTooLarge,
                     "a block of " + std::to_string(block.size()) + " bytes cannot hold a batch");
  }

  const std::string_view text(reinterpret_cast<const char*>(chunk.bytes.data()),
                              chunk.bytes.size());
  const char* text_end = text.data() + text.size();
  ParseOutput output;
  jsonl::LineReader lines(text, chunk.first_byte == 0);
  jsonl::Line line;
  bool full = false;
  while (lines.Next(line)) {
    if (line.json.empty()) continue;  // blank: not a row
    auto fault = ParseRow(padded_.View(line.json, text_end));
    if (!fault) {
      const std::size_t rows = row_lines_.size();
      if (const std::size_t bound = BatchSizeBound(columns_, rows + 1); bound > usable) {
        for (auto& column : columns_) column.PopBack();
        if (rows != 0) {  // the block is full: stop before this line
          output.bytes_consumed = line.offset;
          output.lines_consumed = line.index;
          full = true;
          break;
        }
        fault = RowFault{{InputErrc::kRecordTooLarge, "needs " + std::to_string(bound) +
                                                          " bytes, the block has " +
                                                          std::to_string(block.size())}};
      } else {
        row_lines_.push_back(static_cast<std::uint32_t>(line.index));
        continue;
      }
    }
    output.rejected.push_back(InputError{
        .reason = fault->fault.reason,
        .line = chunk.first_line + line.index,
        .byte_offset = chunk.first_byte + line.offset,
        .column = fault->column == kNoColumn ? std::string() : schema_[fault->column].name,
        .detail = std::move(fault->fault.detail),
        .raw = std::string(line.raw),
    });
  }
  if (!full) {
    output.bytes_consumed = lines.position();
    output.lines_consumed = lines.lines();
  }

  auto batch = WriteBatch(block, BatchInfo{chunk.index, chunk.first_line, chunk.first_byte},
                          columns_, row_lines_);
  if (!batch) return tl::unexpected(std::move(batch.error()));
  output.batch = *batch;
  output.rows_out = static_cast<std::uint32_t>(row_lines_.size());
  return output;
}

std::optional<JsonlParser::Impl::RowFault> JsonlParser::Impl::ParseRow(
    simdjson::padded_string_view json) {
  std::fill(seen_.begin(), seen_.end(), 0);
  next_column_ = 0;
  padded_end_ = json.data() + json.capacity();
  od::document document;
  od::object object;
  if (auto fault = jsonl::OpenObject(parser_, json, document, object)) return RowFault{*fault};

  // A value that does not fit its column rejects the row, but the rest of the line is still
  // read: if it is not valid JSON, that is the reason given.
  std::optional<RowFault> value_fault;
  for (auto field_result : object) {
    od::field field;
    if (const auto error = std::move(field_result).get(field)) {
      UndoRow();
      return RowFault{jsonl::JsonFault(error)};
    }
    const od::raw_json_string raw_key = field.key();  // unescaped_key() clears it
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      UndoRow();
      return RowFault{jsonl::StringFault(jsonl::KeyToken(raw_key))};
    }
    const auto column = value_fault ? std::nullopt : Find(key);
    if (!column) {
      if (auto fault = jsonl::Validate(field.value(), 1)) {
        UndoRow();
        return RowFault{std::move(*fault)};
      }
      continue;
    }
    if (seen_[*column] != 0) {  // a duplicate key: the last one wins
      columns_[*column].PopBack();
      seen_[*column] = 0;
    }
    if (auto fault = Store(*column, field.value())) {
      const bool bad_json =
          fault->reason == InputErrc::kInvalidJson || fault->reason == InputErrc::kInvalidUtf8;
      if (bad_json) {
        UndoRow();
        return RowFault{std::move(*fault), *column};
      }
      value_fault = RowFault{std::move(*fault), *column};
      continue;
    }
    seen_[*column] = 1;
  }
  if (auto fault = jsonl::CheckEnd(document, json)) {
    UndoRow();
    return RowFault{std::move(*fault)};
  }
  if (value_fault) {
    UndoRow();
    return value_fault;
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (seen_[i] == 0) columns_[i].AppendNull();
  }
  return std::nullopt;
}

std::optional<Fault> JsonlParser::Impl::Store(std::size_t column, od::value value) {
  ColumnBuffer& out = columns_[column];
  const ColumnType type = out.type();
  od::json_type kind{};
  if (const auto error = value.type().get(kind)) return jsonl::JsonFault(error);
  const auto mismatch = [&]() -> std::optional<Fault> {
    const bool scalar = kind != od::json_type::array && kind != od::json_type::object;
    const std::string token = scalar ? " " + detail::Quote(jsonl::Display(value, kind)) : "";
    if (auto fault = jsonl::Validate(value, 1)) return fault;  // bad JSON is the better reason
    return Fault{InputErrc::kTypeMismatch, std::string("expected ") + TypeName(type) + ", got " +
                                               jsonl::KindName(kind) + token};
  };

  switch (kind) {
    case od::json_type::null: {
      if (auto fault = jsonl::Validate(value, 1)) return fault;
      out.AppendNull();
      return std::nullopt;
    }
    case od::json_type::number: {
      if (type == ColumnType::kBool) return mismatch();
      const auto token = jsonl::Token(value);
      if (!jsonl::IsJsonNumber(token)) return jsonl::InvalidToken(token);
      if (type == ColumnType::kString) {  // a string column holds any value as its JSON text
        out.AppendString(token);
        return std::nullopt;
      }
      if (type == ColumnType::kFloat64) {
        const auto number = detail::ParseExactFloat64(token);
        if (!number) {
          return Fault{InputErrc::kBadFloat64, detail::BadValueDetail(type, token, token)};
        }
        out.AppendFloat64(*number);
        return std::nullopt;
      }
      if (!jsonl::IsJsonInteger(token)) return mismatch();
      if (type != ColumnType::kInt64 && type != ColumnType::kTimestamp) return mismatch();
      std::int64_t number = 0;
      if (value.get_int64().get(number) != simdjson::SUCCESS) {
        return Fault{detail::BadValueReason(type), type == ColumnType::kInt64
                                                       ? detail::BadValueDetail(type, token, token)
                                                       : detail::RangeDetail(type, token)};
      }
      if (type == ColumnType::kTimestamp && !detail::IsTimestamp(number)) {
        return Fault{InputErrc::kBadTimestamp, detail::RangeDetail(type, token)};
      }
      out.AppendInt64(number);
      return std::nullopt;
    }
    case od::json_type::string: {
      if (type != ColumnType::kString && !IsTemporal(type)) return mismatch();
      const auto token = jsonl::Token(value);
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return jsonl::StringFault(token);
      if (type == ColumnType::kString) {
        out.AppendString(text);
        return std::nullopt;
      }
      const auto temporal = detail::ParseTemporal(type, text);
      if (!temporal) {
        return Fault{detail::BadValueReason(type), detail::BadValueDetail(type, text, text)};
      }
      out.AppendInt64(*temporal);
      return std::nullopt;
    }
    case od::json_type::boolean: {
      if (type != ColumnType::kBool && type != ColumnType::kString) return mismatch();
      bool flag = false;
      if (value.get_bool().get(flag) != simdjson::SUCCESS) {
        return jsonl::InvalidToken(jsonl::Token(value));
      }
      type == ColumnType::kBool ? out.AppendBool(flag) : out.AppendString(flag ? "true" : "false");
      return std::nullopt;
    }
    case od::json_type::array:
    case od::json_type::object:
      if (type != ColumnType::kString) return mismatch();
      return StoreNested(out, value, kind);
  }
  return mismatch();
}

std::optional<Fault> JsonlParser::Impl::StoreNested(ColumnBuffer& out, od::value value,
                                                    od::json_type kind) {
  std::string_view raw;
  simdjson::error_code error{};
  if (kind == od::json_type::array) {
    od::array array;
    error = value.get_array().get(array);
    if (!error) error = array.raw_json().get(raw);
  } else {
    od::object object;
    error = value.get_object().get(object);
    if (!error) error = object.raw_json().get(raw);
  }
  if (error) return jsonl::JsonFault(error);
  while (!raw.empty() && jsonl::IsJsonSpace(raw.back())) raw.remove_suffix(1);
  // raw_json skips what it spans without checking it (On-Demand): check it as a document of its
  // own, read in place (the row's padding follows it).
  const simdjson::padded_string_view nested(raw.data(), raw.size(),
                                            static_cast<std::size_t>(padded_end_ - raw.data()));
  od::document document;
  od::value root;
  if (const auto e = nested_parser_.iterate(nested).get(document)) return jsonl::JsonFault(e);
  if (const auto e = document.get_value().get(root)) return jsonl::JsonFault(e);
  if (auto fault = jsonl::Validate(root, 1)) return fault;
  out.AppendString(raw);
  return std::nullopt;
}

JsonlParser::JsonlParser(JsonlOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
JsonlParser::~JsonlParser() = default;
JsonlParser::JsonlParser(JsonlParser&&) noexcept = default;
JsonlParser& JsonlParser::operator=(JsonlParser&&) noexcept = default;

const Schema& JsonlParser::schema() const { return impl_->schema(); }

StageResult<ParseOutput> JsonlParser::Parse(const Chunk& chunk, std::span<std::byte> block) {
  return impl_->Parse(chunk, block);
}

}  // namespace zcpipe::stages
