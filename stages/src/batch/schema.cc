#include "zcpipe/stages/schema.h"

#include <array>
#include <stdexcept>
#include <string>

#include "values/values.h"

namespace zcpipe::stages {
namespace {

constexpr std::array<const char*, 7> kTypeNames = {"int64",     "float64", "bool",    "string",
                                                   "timestamp", "date",    "datetime"};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

const char* TypeName(ColumnType type) { return kTypeNames.at(static_cast<std::size_t>(type)); }

std::string TypeNames() {
  std::string names;
  for (const char* name : kTypeNames) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

std::optional<ColumnType> ParseType(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (name == kTypeNames[i]) return static_cast<ColumnType>(i);
  }
  return std::nullopt;
}

Schema::Schema(std::vector<ColumnSpec> columns) : columns_(std::move(columns)) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name.empty()) throw std::invalid_argument("schema: empty column name");
    if (!detail::IsValidUtf8(columns_[i].name)) {
      throw std::invalid_argument("schema: the name of column " + std::to_string(i + 1) +
                                  " is not UTF-8");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (columns_[j].name == columns_[i].name) {
        throw std::invalid_argument("schema: duplicate column '" + columns_[i].name + "'");
      }
    }
  }
}

Schema Schema::Parse(std::string_view text) {
  std::vector<ColumnSpec> columns;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto colon = part.rfind(':');
    ColumnSpec column{std::string(Trim(part.substr(0, colon))), ColumnType::kString};
    if (colon != std::string_view::npos) {
      const auto type_name = Trim(part.substr(colon + 1));
      const auto type = ParseType(type_name);
      if (!type) {
        throw std::invalid_argument("schema: unknown type '" + std::string(type_name) +
                                    "' for column '" + column.name + "' (" + TypeNames() + ")");
      }
      column.type = *type;
    }
    columns.push_back(std::move(column));
  }
  if (columns.empty()) throw std::invalid_argument("schema: no columns");
  return Schema(std::move(columns));
}

std::string Schema::ToString() const {
  std::string text;
  for (const auto& column : columns_) {
    if (!text.empty()) text += ',';
    text += column.name;
    text += ':';
    text += TypeName(column.type);
  }
  return text;
}

std::optional<std::size_t> Schema::Find(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

}  // namespace zcpipe::stages
