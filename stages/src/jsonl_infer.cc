// JsonlParser::InferSchema: column names and types from the first rows of a chunk.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jsonl_detail.h"
#include "values.h"
#include "zcpipe/stages/jsonl.h"

namespace zcpipe::stages {
namespace {

namespace od = jsonl::od;

// The kinds of non-null values seen for one key, as bits.
enum Kind : std::uint8_t {
  kInteger = 1,  // an integer in int64 range
  kNumber = 2,   // any other number
  kBoolean = 4,
  kTimestamp = 8,  // a string that parses as ISO 8601
  kText = 16,      // any other string
  kOther = 32,     // an array or an object
  kNull = 0,
};

ColumnType TypeOf(std::uint8_t kinds) {
  if (kinds == kInteger) return ColumnType::kInt64;
  if (kinds != 0 && (kinds & ~(kInteger | kNumber)) == 0) return ColumnType::kFloat64;
  if (kinds == kBoolean) return ColumnType::kBool;
  if (kinds == kTimestamp) return ColumnType::kTimestamp;
  return ColumnType::kString;
}

// The kind of `value`, or nothing if it is not valid JSON.
std::optional<Kind> KindOf(od::value value) {
  od::json_type type{};
  if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
  switch (type) {
    case od::json_type::number: {
      const auto token = jsonl::Token(value);
      if (!jsonl::IsJsonNumber(token)) return std::nullopt;
      std::int64_t integer = 0;
      if (jsonl::IsJsonInteger(token) && value.get_int64().get(integer) == simdjson::SUCCESS) {
        return kInteger;
      }
      return kNumber;
    }
    case od::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      return detail::ParseTimestamp(text) ? kTimestamp : kText;
    }
    case od::json_type::boolean:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return kBoolean;
    case od::json_type::null:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return kNull;
    case od::json_type::array:
    case od::json_type::object:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return kOther;
  }
  return std::nullopt;
}

}  // namespace

Schema JsonlParser::InferSchema(const Chunk& chunk, std::size_t max_rows) {
  std::vector<std::pair<std::string, std::uint8_t>> keys;  // in order of first appearance
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::pair<std::string_view, Kind>> row;  // one line's keys, kept if it is valid

  od::parser parser;
  jsonl::PaddedLine padded;
  const std::string_view text(reinterpret_cast<const char*>(chunk.bytes.data()),
                              chunk.bytes.size());
  jsonl::LineReader lines(text);
  jsonl::Line line;
  for (std::size_t rows = 0; rows < max_rows && lines.Next(line);) {
    if (line.json.empty()) continue;
    ++rows;
    const auto json = padded.View(line.json, text.data() + text.size());
    od::document document;
    od::object object;
    if (jsonl::OpenObject(parser, json, document, object)) continue;
    row.clear();
    bool valid = true;
    for (auto field_result : object) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) != simdjson::SUCCESS ||
          field.unescaped_key().get(key) != simdjson::SUCCESS) {
        valid = false;
        break;
      }
      const auto kind = KindOf(field.value());
      if (!kind) {
        valid = false;
        break;
      }
      row.emplace_back(key, *kind);
    }
    if (!valid || jsonl::CheckEnd(document, json)) continue;
    for (const auto& [key, kind] : row) {
      if (key.empty()) continue;  // not a column name
      auto it = index.find(std::string(key));
      if (it == index.end()) {
        if (keys.size() == kMaxInferredColumns) continue;
        it = index.emplace(std::string(key), keys.size()).first;
        keys.emplace_back(key, 0);
      }
      keys[it->second].second |= kind;
    }
  }

  std::vector<ColumnSpec> columns;
  columns.reserve(keys.size());
  for (auto& [name, kinds] : keys) columns.push_back({std::move(name), TypeOf(kinds)});
  return Schema(std::move(columns));
}

}  // namespace zcpipe::stages
