#include "zcpipe/stages/input_error.h"

namespace zcpipe::stages {

const char* Name(InputErrc reason) {
  switch (reason) {
    case InputErrc::kUnterminatedQuote:
      return "unterminated quoted field";
    case InputErrc::kStrayQuote:
      return "unexpected quote";
    case InputErrc::kFieldCount:
      return "wrong number of fields";
    case InputErrc::kBadInt64:
      return "bad int64";
    case InputErrc::kBadFloat64:
      return "bad float64";
    case InputErrc::kBadBool:
      return "bad bool";
    case InputErrc::kBadTimestamp:
      return "bad timestamp";
    case InputErrc::kBadDate:
      return "bad date";
    case InputErrc::kBadDateTime:
      return "bad datetime";
    case InputErrc::kInvalidUtf8:
      return "invalid UTF-8";
    case InputErrc::kInvalidJson:
      return "invalid JSON";
    case InputErrc::kTypeMismatch:
      return "wrong JSON type";
    case InputErrc::kRecordTooLarge:
      return "record too large";
    case InputErrc::kPoison:
      return "poison";
  }
  return "bad input";
}

std::string InputError::Describe() const {
  std::string text = "line " + std::to_string(line) + " (byte " + std::to_string(byte_offset) +
                     "): " + Name(reason);
  if (!column.empty()) text += " in column '" + column + "'";
  if (!detail.empty()) text += ": " + detail;
  return text;
}

}  // namespace zcpipe::stages
