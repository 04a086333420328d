// Pieces shared by JsonlParser::Parse and JsonlParser::InferSchema: splitting a chunk into
// lines, handing a line to simdjson with the padding it needs, and checking with simdjson's
// On-Demand API what it does not check by itself (On-Demand validates only what is read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "values/values.h"
#include "zcpipe/stages/input_error.h"

namespace zcpipe::stages::jsonl {

namespace od = simdjson::ondemand;

// Why a line is not a good row (no column: the caller knows which, if any).
struct Fault {
  InputErrc reason;
  std::string detail;
};

// JSON's insignificant whitespace: space, tab, CR, LF.
[[nodiscard]] constexpr bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Line {
  std::string_view raw;     // the line without its LF or CRLF
  std::string_view json;    // raw without leading and trailing JSON whitespace; empty: blank
  std::size_t offset = 0;   // of raw in the text
  std::uint64_t index = 0;  // 0-based line number in the text
};

// Splits text into lines (LF or CRLF; the last line may lack one). Does not own the text.
// `input_start`: the text begins the input, where a UTF-8 byte order mark is no part of the
// first line's JSON.
class LineReader {
 public:
  explicit LineReader(std::string_view text, bool input_start = false)
      : text_(text), input_start_(input_start) {}
  // The next line, or false at the end of the text.
  [[nodiscard]] bool Next(Line& line);
  // Offset of the first byte not yet read, and the number of lines read.
  [[nodiscard]] std::size_t position() const { return position_; }
  [[nodiscard]] std::uint64_t lines() const { return lines_; }

 private:
  std::string_view text_;
  bool input_start_;
  std::size_t position_ = 0;
  std::uint64_t lines_ = 0;
};

// Gives simdjson a view of a line with SIMDJSON_PADDING readable bytes after it: the chunk
// itself when enough of it follows the line (no copy), else a copy in a buffer reused across
// lines (only the last lines of a chunk; the buffer grows to the longest of them, then stays).
// The byte after the line is whitespace either way (a line ends at whitespace or LF).
class PaddedLine {
 public:
  // REQUIRES: json is non-empty and lies within [.., text_end).
  [[nodiscard]] simdjson::padded_string_view View(std::string_view json, const char* text_end);

 private:
  std::vector<char> scratch_;
};

// Starts iterating `json` as a JSON object (the line's root). On success `object` is ready to
// iterate; afterwards call CheckEnd.
[[nodiscard]] std::optional<Fault> OpenObject(od::parser& parser, simdjson::padded_string_view json,
                                              od::document& document, od::object& object);
// After the root object was iterated to its end: anything but whitespace after it is a fault.
// `json` is what was given to OpenObject.
[[nodiscard]] std::optional<Fault> CheckEnd(od::document& document, std::string_view json);

// Walks `value` to its end, checking what On-Demand would skip: scalar tokens, string escapes,
// the structure of nested containers. `depth` is value's nesting below the row object (from 1).
[[nodiscard]] std::optional<Fault> Validate(od::value value, std::size_t depth);

// The text of a field's key, quotes included (for error messages). Take field.key() before
// calling unescaped_key(), which clears it.
[[nodiscard]] std::string_view KeyToken(od::raw_json_string key);
// The text of a scalar value, without the whitespace simdjson keeps after it.
[[nodiscard]] std::string_view Token(od::value& value);
// A scalar value's text for messages: Token, without the quotes of a string.
[[nodiscard]] std::string_view Display(od::value& value, od::json_type kind);
// JSON's number grammar, shared with the value rules.
using detail::IsJsonInteger;
using detail::IsJsonNumber;

// The fault for a scalar token that is not JSON (e.g. "tru", "01", "-").
[[nodiscard]] Fault InvalidToken(std::string_view token);
// The fault for a simdjson error while reading a line's structure.
[[nodiscard]] Fault JsonFault(simdjson::error_code error);
// The fault for a string token that get_string / unescaped_key refused: a well-formed one can
// only hold an escaped lone surrogate (not Unicode: kInvalidUtf8), else a bad escape.
[[nodiscard]] Fault StringFault(std::string_view token);
// "string", "number", "array"...
[[nodiscard]] const char* KindName(od::json_type type);

}  // namespace zcpipe::stages::jsonl
