// InputError: one bad row of input, and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zcpipe::stages {

enum class InputErrc : std::uint8_t {
  kUnterminatedQuote,  // a quoted field runs to the end of the input
  kStrayQuote,         // a quote inside an unquoted field, or text after a closing quote
  kFieldCount,         // a row with more or fewer fields than the header/schema
  kBadInt64,
  kBadFloat64,
  kBadBool,
  kBadTimestamp,
  kBadDate,
  kBadDateTime,
  kInvalidUtf8,     // a string value that is not valid UTF-8
  kInvalidJson,     // a JSON Lines row that is not a JSON object
  kTypeMismatch,    // a JSON value of the wrong kind for its column
  kRecordTooLarge,  // one row larger than an arena block
  kPoison,          // a row whose chunk kept killing the worker processes that parsed it
};

// A stable lowercase name, e.g. "bad int64".
const char* Name(InputErrc reason);

// A rejected row. The pipeline adds the file name; rows_in = rows_out + rejected rows.
struct InputError {
  InputErrc reason;
  std::uint64_t line = 0;         // 1-based line the row starts on
  std::uint64_t byte_offset = 0;  // offset of the row's first byte in the input
  std::string column;             // the column to blame, when there is one
  std::string detail;             // e.g. the offending value, shortened
  std::string raw;                // the raw row, for quarantine files

  // "line 12 (byte 345): bad int64 in column 'id': \"12x\"".
  [[nodiscard]] std::string Describe() const;
};

using InputErrors = std::vector<InputError>;

}  // namespace zcpipe::stages
