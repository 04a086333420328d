#include "jsonl/jsonl_detail.h"

#include <algorithm>
#include <cstring>

#include "values/values.h"
#include "zcpipe/stages/jsonl.h"

namespace zcpipe::stages::jsonl {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A string token without its quotes (still escaped), for messages.
std::string_view Unquoted(std::string_view token) {
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    return token.substr(1, token.size() - 2);
  }
  return token;
}

}  // namespace

Fault InvalidToken(std::string_view token) {
  return {InputErrc::kInvalidJson, "bad token " + detail::Quote(token)};
}

bool LineReader::Next(Line& line) {
  if (position_ >= text_.size()) return false;
  const char* start = text_.data() + position_;
  const auto* newline =
      static_cast<const char*>(std::memchr(start, '\n', text_.size() - position_));
  const std::size_t end =
      newline != nullptr ? static_cast<std::size_t>(newline - text_.data()) : text_.size();
  line.raw = text_.substr(position_, end - position_);
  if (!line.raw.empty() && line.raw.back() == '\r') line.raw.remove_suffix(1);
  line.json = line.raw;
  if (input_start_ && position_ == 0 && line.json.starts_with("\xEF\xBB\xBF")) {
    line.json.remove_prefix(3);
  }
  while (!line.json.empty() && IsJsonSpace(line.json.front())) line.json.remove_prefix(1);
  while (!line.json.empty() && IsJsonSpace(line.json.back())) line.json.remove_suffix(1);
  line.offset = position_;
  line.index = lines_;
  position_ = newline != nullptr ? end + 1 : text_.size();
  ++lines_;
  return true;
}

simdjson::padded_string_view PaddedLine::View(std::string_view json, const char* text_end) {
  const char* end = json.data() + json.size();
  if (static_cast<std::size_t>(text_end - end) >= simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(json.data(), json.size(),
                                        json.size() + simdjson::SIMDJSON_PADDING);
  }
  // Too close to the end of the chunk to let simdjson read past the line: copy it (a per-line
  // copy into a reused buffer, for the last ~SIMDJSON_PADDING bytes of a chunk only).
  const std::size_t capacity = json.size() + simdjson::SIMDJSON_PADDING;
  if (scratch_.size() < capacity) scratch_.resize(capacity);
  std::memcpy(scratch_.data(), json.data(), json.size());
  std::memset(scratch_.data() + json.size(), ' ', simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(scratch_.data(), json.size(), capacity);
}

std::optional<Fault> OpenObject(od::parser& parser, simdjson::padded_string_view json,
                                od::document& document, od::object& object) {
  // simdjson would grow its buffers to exactly each longer line; grow them geometrically, so
  // that lines of creeping length do not reallocate on every row.
  if (parser.capacity() < json.size()) {
    const std::size_t capacity =
        std::max(json.size(), std::min(2 * parser.capacity(), parser.max_capacity()));
    if (const auto error = parser.allocate(capacity)) return JsonFault(error);
  }
  if (const auto error = parser.iterate(json).get(document)) return JsonFault(error);
  if (const auto error = document.get_object().get(object)) {
    if (error == simdjson::INCORRECT_TYPE) {
      return Fault{InputErrc::kInvalidJson, "not a JSON object"};
    }
    return JsonFault(error);
  }
  return std::nullopt;
}

std::optional<Fault> CheckEnd(od::document& document, std::string_view json) {
  // current_location() fails (OUT_OF_BOUNDS) exactly when the iterator is past the last token.
  const auto location = document.current_location();
  if (location.error() != simdjson::SUCCESS) return std::nullopt;
  const std::size_t at = static_cast<std::size_t>(location.value_unsafe() - json.data());
  return Fault{InputErrc::kInvalidJson,
               "text after the object: " + detail::Quote(json.substr(std::min(at, json.size())))};
}

std::optional<Fault> Validate(od::value value, std::size_t depth) {
  od::json_type type{};
  if (const auto error = value.type().get(type)) return JsonFault(error);
  switch (type) {
    case od::json_type::array: {
      if (depth > JsonlParser::kMaxDepth) return JsonFault(simdjson::DEPTH_ERROR);
      od::array array;
      if (const auto error = value.get_array().get(array)) return JsonFault(error);
      for (auto element_result : array) {
        od::value element;
        if (const auto error = std::move(element_result).get(element)) return JsonFault(error);
        if (auto fault = Validate(element, depth + 1)) return fault;
      }
      return std::nullopt;
    }
    case od::json_type::object: {
      if (depth > JsonlParser::kMaxDepth) return JsonFault(simdjson::DEPTH_ERROR);
      od::object object;
      if (const auto error = value.get_object().get(object)) return JsonFault(error);
      for (auto field_result : object) {
        od::field field;
        if (const auto error = std::move(field_result).get(field)) return JsonFault(error);
        const od::raw_json_string raw_key = field.key();  // unescaped_key() clears it
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
          return StringFault(KeyToken(raw_key));
        }
        if (auto fault = Validate(field.value(), depth + 1)) return fault;
      }
      return std::nullopt;
    }
    case od::json_type::number: {
      const auto token = Token(value);
      if (!IsJsonNumber(token)) return InvalidToken(token);
      return std::nullopt;  // not read: its range matters only to a column
    }
    case od::json_type::string: {
      const auto token = Token(value);
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return StringFault(token);
      return std::nullopt;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (value.get_bool().get(flag) != simdjson::SUCCESS) return InvalidToken(Token(value));
      return std::nullopt;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
        return InvalidToken(Token(value));
      }
      return std::nullopt;
    }
  }
  return InvalidToken(Token(value));
}

std::string_view KeyToken(od::raw_json_string key) {
  // simdjson keeps only where the key starts; its closing quote is certain to follow in the
  // line (stage 1 matched the quotes), found by the same rule: the first quote not escaped.
  const char* start = key.raw();  // just after the opening quote
  std::size_t length = 0;
  while (start[length] != '"') length += start[length] == '\\' ? 2 : 1;
  return {start - 1, length + 2};
}

std::string_view Display(od::value& value, od::json_type kind) {
  return kind == od::json_type::string ? Unquoted(Token(value)) : Token(value);
}

std::string_view Token(od::value& value) {
  std::string_view token = value.raw_json_token();
  while (!token.empty() && IsJsonSpace(token.back())) token.remove_suffix(1);
  return token;
}

Fault JsonFault(simdjson::error_code error) {
  switch (error) {
    case simdjson::UTF8_ERROR:
      return {InputErrc::kInvalidUtf8, "not valid UTF-8"};
    case simdjson::UNESCAPED_CHARS:
      return {InputErrc::kInvalidJson, "unescaped control character in a string"};
    case simdjson::UNCLOSED_STRING:
      return {InputErrc::kInvalidJson, "unclosed string"};
    case simdjson::DEPTH_ERROR:
      return {InputErrc::kInvalidJson,
              "nested deeper than " + std::to_string(JsonlParser::kMaxDepth) + " levels"};
    case simdjson::CAPACITY:
      return {InputErrc::kRecordTooLarge, "line longer than simdjson can parse"};
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      // simdjson's check that the root object's last token is its "}".
      return {InputErrc::kInvalidJson, "unclosed object or array, or text after the object"};
    default:
      return {InputErrc::kInvalidJson, simdjson::error_message(error)};
  }
}

Fault StringFault(std::string_view token) {
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '\\') continue;
    if (++i >= token.size()) return InvalidToken(token);
    const char c = token[i];
    if (c == 'u') {
      if (i + 4 >= token.size() || !IsHex(token[i + 1]) || !IsHex(token[i + 2]) ||
          !IsHex(token[i + 3]) || !IsHex(token[i + 4])) {
        return {InputErrc::kInvalidJson, "bad escape in " + detail::Quote(Unquoted(token))};
      }
      i += 4;
    } else if (std::strchr("\"\\/bfnrt", c) == nullptr || c == '\0') {
      return {InputErrc::kInvalidJson, "bad escape in " + detail::Quote(Unquoted(token))};
    }
  }
  return {InputErrc::kInvalidUtf8, "lone surrogate in " + detail::Quote(Unquoted(token))};
}

const char* KindName(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "bool";
    case od::json_type::null:
      return "null";
  }
  return "value";
}

}  // namespace zcpipe::stages::jsonl
