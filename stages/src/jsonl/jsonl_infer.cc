// JsonlParser::InferSchema: column names and types from the first rows of a chunk.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jsonl/jsonl_detail.h"
#include "values/type_inference.h"
#include "values/values.h"
#include "zcpipe/stages/jsonl.h"

namespace zcpipe::stages {
namespace {

namespace od = jsonl::od;

// What one value says of its key's type: the types that keep it (type_inference.h), or
// nothing for a null, which any type keeps.
struct Kind {
  bool null = false;
  std::uint8_t types = detail::kNoType;
};

// The kind of `value`, or nothing if it is not valid JSON. A number keeps the numeric types
// that hold its token (an integer beyond int64 or a decimal a double would round, none: string
// keeps its token); a string only the temporal type whose form it has, if any (an int64 column
// takes no string);
// an array or an object none.
std::optional<Kind> KindOf(od::value value) {
  od::json_type type{};
  if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
  switch (type) {
    case od::json_type::number: {
      const auto token = jsonl::Token(value);
      if (!jsonl::IsJsonNumber(token)) return std::nullopt;
      return Kind{false, static_cast<std::uint8_t>(detail::TypesKeeping(token) &
                                                   (detail::kInt64Type | detail::kFloat64Type))};
    }
    case od::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      return Kind{false,
                  static_cast<std::uint8_t>(detail::TypesKeeping(text) & detail::kTemporalTypes)};
    }
    case od::json_type::boolean:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return Kind{false, detail::kBoolType};
    case od::json_type::null:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return Kind{true};
    case od::json_type::array:
    case od::json_type::object:
      if (jsonl::Validate(value, 1)) return std::nullopt;
      return Kind{};
  }
  return std::nullopt;
}

}  // namespace

Schema JsonlParser::InferSchema(const Chunk& chunk, std::size_t max_rows) {
  // In order of first appearance: the types that keep every value seen, if any non-null was.
  std::vector<std::pair<std::string, std::optional<std::uint8_t>>> keys;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::pair<std::string_view, Kind>> row;  // one line's keys, kept if it is valid

  od::parser parser;
  jsonl::PaddedLine padded;
  const std::string_view text(reinterpret_cast<const char*>(chunk.bytes.data()),
                              chunk.bytes.size());
  jsonl::LineReader lines(text, chunk.first_byte == 0);
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
        keys.emplace_back(key, std::nullopt);
      }
      if (kind.null) continue;
      auto& types = keys[it->second].second;
      types = types.value_or(detail::kAnyType) & kind.types;
    }
  }

  std::vector<ColumnSpec> columns;
  columns.reserve(keys.size());
  for (auto& [name, types] : keys) {
    columns.push_back(
        {std::move(name), types ? detail::MostSpecific(*types) : ColumnType::kString});
  }
  return Schema(std::move(columns));
}

}  // namespace zcpipe::stages
