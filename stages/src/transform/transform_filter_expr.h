// The filter expression language: its syntax tree and parser (transform_filter_parse.cc).
// Binding to a schema and evaluation are in transform_filter.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zcpipe::stages::detail {

enum class CompareOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

[[nodiscard]] const char* OpText(CompareOp op);

struct Literal {
  enum class Kind : std::uint8_t { kNumber, kString, kBool, kNull };
  Kind kind = Kind::kNull;
  std::string value;  // kNumber: as written; kString: unescaped
  bool boolean = false;
  std::string source;        // as written, for messages
  std::size_t position = 0;  // 1-based
};

// A node of the syntax tree. and/or are n-ary (a chain of the same operator is one node).
struct Expr {
  enum class Kind : std::uint8_t { kOr, kAnd, kNot, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<Expr> children;  // kOr, kAnd: two or more; kNot: one
  // kCompare: column op literal (a "literal op column" comparison is stored flipped).
  std::string column;
  std::size_t column_position = 0;  // 1-based
  CompareOp op = CompareOp::kEq;
  Literal literal;
};

inline constexpr std::size_t kMaxFilterDepth = 100;  // nested parentheses and "not"s

// Parses a filter expression. Throws std::invalid_argument("filter: ... at position N ...").
[[nodiscard]] Expr ParseFilter(std::string_view text);

}  // namespace zcpipe::stages::detail
