// Schema: the names and types of a record batch's columns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zcpipe::stages {

// Numbering matches zcpipe.fb.ColumnType in record_batch.fbs.
enum class ColumnType : std::uint8_t {
  kInt64 = 0,
  kFloat64 = 1,
  kBool = 2,
  kString = 3,
  kTimestamp = 4,  // an instant (the input gave a zone: Z or an offset), held in UTC
  kDate = 5,       // a calendar date
  kDateTime = 6,   // a local date and time of day without a zone ("naive")
};

// Date, DateTime and Timestamp: the types an ISO 8601 text may have (values/values.h).
[[nodiscard]] constexpr bool IsTemporal(ColumnType type) {
  return type == ColumnType::kTimestamp || type == ColumnType::kDate ||
         type == ColumnType::kDateTime;
}

// "int64", "float64", "bool", "string", "timestamp", "date", "datetime".
const char* TypeName(ColumnType type);
// Every type's name, for messages: "int64, float64, bool, string, timestamp, date, datetime".
std::string TypeNames();
std::optional<ColumnType> ParseType(std::string_view name);

struct ColumnSpec {
  std::string name;
  ColumnType type;
  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

// An ordered list of uniquely named, typed columns. Text form: "id:int64,amount:float64,name"
// (a column without a type is a string). A value type; thread-compatible.
class Schema {
 public:
  Schema() = default;
  // Throws std::invalid_argument for a name that is empty, repeated or not UTF-8 (a schema is
  // written into containers and exports as UTF-8 text).
  explicit Schema(std::vector<ColumnSpec> columns);

  // Parses the text form. Throws std::invalid_argument naming the bad part (configuration).
  static Schema Parse(std::string_view text);
  [[nodiscard]] std::string ToString() const;

  [[nodiscard]] const std::vector<ColumnSpec>& columns() const { return columns_; }
  [[nodiscard]] std::size_t size() const { return columns_.size(); }
  [[nodiscard]] const ColumnSpec& operator[](std::size_t i) const { return columns_[i]; }
  [[nodiscard]] std::optional<std::size_t> Find(std::string_view name) const;

  friend bool operator==(const Schema&, const Schema&) = default;

 private:
  std::vector<ColumnSpec> columns_;
};

}  // namespace zcpipe::stages
