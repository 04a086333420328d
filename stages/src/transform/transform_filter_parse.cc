// Recursive-descent parser for filter expressions (grammar in transform.h, FilterTransform).
#include <stdexcept>

#include "transform/transform_filter_expr.h"

namespace zcpipe::stages::detail {
namespace {

struct Token {
  enum class Kind : std::uint8_t {
    kName,  // a column: word or `quoted`
    kNumber,
    kString,  // 'text' or "text"
    kTrue,
    kFalse,
    kNull,
    kAnd,
    kOr,
    kNot,
    kOp,
    kOpen,
    kClose,
    kEnd,
  };
  Kind kind = Kind::kEnd;
  std::string value;  // kName, kString: the text (unescaped); kNumber: as written
  CompareOp op = CompareOp::kEq;
  std::size_t position = 0;  // 1-based
  std::string_view source;   // as written
};

bool IsWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWord(char c) { return IsWordStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "dddd-dd-dd" at the start of `text`; a character of an ISO 8601 time or offset.
bool IsDateStart(std::string_view text) {
  constexpr std::string_view kShape = "0000-00-00";
  if (text.size() < kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == '-' ? text[i] != '-' : !IsDigit(text[i])) return false;
  }
  return true;
}
bool IsTimeMark(char c) {
  return c == '-' || c == ':' || c == '.' || c == 'T' || c == 'Z' || c == '+';
}

bool EqualsIgnoreCase(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char c = word[i] >= 'A' && word[i] <= 'Z' ? static_cast<char>(word[i] + 32) : word[i];
    if (c != lower[i]) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) { Next(); }

  Expr Parse() {
    Expr expr = ParseOr();
    if (token_.kind == Token::Kind::kClose) FailAt(token_.position, "unbalanced ')'");
    if (token_.kind != Token::Kind::kEnd) Fail("expected 'and', 'or' or the end");
    return expr;
  }

 private:
  [[noreturn]] void FailAt(std::size_t position, const std::string& what) const {
    throw std::invalid_argument("filter: " + what + " at position " + std::to_string(position) +
                                " in \"" + std::string(text_) + "\"");
  }
  // "<what>, found <the current token>".
  [[noreturn]] void Fail(const std::string& what) const {
    FailAt(token_.position,
           what + ", found " +
               (token_.kind == Token::Kind::kEnd ? "the end"
                                                 : "'" + std::string(token_.source) + "'"));
  }

  void Next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    token_ = Token{};
    token_.position = pos_ + 1;
    const std::size_t start = pos_;
    if (pos_ == text_.size()) {
      token_.kind = Token::Kind::kEnd;
      return;
    }
    const char c = text_[pos_];
    if (c == '(' || c == ')') {
      token_.kind = c == '(' ? Token::Kind::kOpen : Token::Kind::kClose;
      ++pos_;
    } else if (c == '\'' || c == '"' || c == '`') {
      token_.kind = c == '`' ? Token::Kind::kName : Token::Kind::kString;
      token_.value = Quoted(c);
      if (token_.kind == Token::Kind::kName && token_.value.empty()) {
        FailAt(token_.position, "empty column name");
      }
    } else if (IsDateStart(text_.substr(pos_))) {
      // An unquoted ISO 8601 date or time is a string (the binding checks its form): it has no
      // space, and the grammar has no minus that "2012-01-01" could otherwise mean.
      while (pos_ < text_.size() && (IsDigit(text_[pos_]) || IsTimeMark(text_[pos_]))) ++pos_;
      token_.kind = Token::Kind::kString;
      token_.value = std::string(text_.substr(start, pos_ - start));
    } else if (IsDigit(c) || c == '.' ||
               ((c == '-' || c == '+') && pos_ + 1 < text_.size() &&
                (IsDigit(text_[pos_ + 1]) || text_[pos_ + 1] == '.'))) {
      token_.kind = Token::Kind::kNumber;
      token_.value = Number();
    } else if (IsWordStart(c)) {
      while (pos_ < text_.size() && IsWord(text_[pos_])) ++pos_;
      const std::string_view word = text_.substr(start, pos_ - start);
      token_.kind = Token::Kind::kName;
      token_.value = std::string(word);
      static constexpr std::pair<std::string_view, Token::Kind> kKeywords[] = {
          {"and", Token::Kind::kAnd},     {"or", Token::Kind::kOr},
          {"not", Token::Kind::kNot},     {"true", Token::Kind::kTrue},
          {"false", Token::Kind::kFalse}, {"null", Token::Kind::kNull}};
      for (const auto& [keyword, kind] : kKeywords) {
        if (EqualsIgnoreCase(word, keyword)) token_.kind = kind;
      }
    } else if (!Operator()) {
      FailAt(token_.position, "unexpected character '" + std::string(1, c) + "'");
    }
    token_.source = text_.substr(start, pos_ - start);
  }

  // A quoted string or name opened by `quote` at pos_; a backslash escapes the next character.
  std::string Quoted(char quote) {
    const std::size_t open = pos_ + 1;
    std::string value;
    for (++pos_; pos_ < text_.size(); ++pos_) {
      if (text_[pos_] == quote) {
        ++pos_;
        return value;
      }
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      value += text_[pos_];
    }
    FailAt(open, std::string("unterminated ") + (quote == '`' ? "column name" : "string"));
  }

  // sign? digits* ('.' digits*)? ([eE] sign? digits+)?, with at least one mantissa digit.
  std::string Number() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    std::size_t digits = 0;
    for (; pos_ < text_.size() && IsDigit(text_[pos_]); ++pos_) ++digits;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      for (++pos_; pos_ < text_.size() && IsDigit(text_[pos_]); ++pos_) ++digits;
    }
    bool ok = digits > 0;
    if (ok && pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) ++pos_;
      std::size_t exponent = 0;
      for (; pos_ < text_.size() && IsDigit(text_[pos_]); ++pos_) ++exponent;
      ok = exponent > 0;
    }
    while (pos_ < text_.size() && (IsWord(text_[pos_]) || text_[pos_] == '.')) {
      ok = false;
      ++pos_;
    }
    if (!ok)
      FailAt(start + 1, "bad number '" + std::string(text_.substr(start, pos_ - start)) + "'");
    return std::string(text_.substr(start, pos_ - start));
  }

  bool Operator() {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<=", CompareOp::kLe},
        {">=", CompareOp::kGe}, {"<", CompareOp::kLt},  {">", CompareOp::kGt}};
    for (const auto& [text, op] : kOps) {
      if (text_.substr(pos_, text.size()) == text) {
        token_.kind = Token::Kind::kOp;
        token_.op = op;
        pos_ += text.size();
        return true;
      }
    }
    if (text_[pos_] == '=') FailAt(pos_ + 1, "'=' is not an operator (use '==')");
    return false;
  }

  Expr ParseOr() { return ParseChain(Token::Kind::kOr, Expr::Kind::kOr, &Parser::ParseAnd); }
  Expr ParseAnd() { return ParseChain(Token::Kind::kAnd, Expr::Kind::kAnd, &Parser::ParseUnary); }

  Expr ParseChain(Token::Kind separator, Expr::Kind kind, Expr (Parser::*operand)()) {
    Expr first = (this->*operand)();
    if (token_.kind != separator) return first;
    Expr chain;
    chain.kind = kind;
    chain.children.push_back(std::move(first));
    while (token_.kind == separator) {
      Next();
      chain.children.push_back((this->*operand)());
    }
    return chain;
  }

  Expr ParseUnary() {
    if (token_.kind != Token::Kind::kNot && token_.kind != Token::Kind::kOpen) {
      return ParseComparison();
    }
    if (++depth_ > kMaxFilterDepth) Fail("nested too deeply");
    Expr expr;
    if (token_.kind == Token::Kind::kNot) {
      Next();
      expr.kind = Expr::Kind::kNot;
      expr.children.push_back(ParseUnary());
    } else {
      const std::size_t open = token_.position;
      Next();
      expr = ParseOr();
      if (token_.kind != Token::Kind::kClose) {
        Fail("expected ')' to close the '(' at position " + std::to_string(open));
      }
      Next();
    }
    --depth_;
    return expr;
  }

  // column op literal, or literal op column.
  Expr ParseComparison() {
    const Token left = Operand();
    if (token_.kind != Token::Kind::kOp) {
      Fail("expected a comparison (== != < <= > >=) after '" + std::string(left.source) + "'");
    }
    const CompareOp op = token_.op;
    Next();
    const Token right = Operand();
    const bool left_column = left.kind == Token::Kind::kName;
    const bool right_column = right.kind == Token::Kind::kName;
    if (left_column == right_column) {
      FailAt(left.position,
             left_column ? "compare a column with a value, not with column '" + right.value + "'"
                         : "a comparison needs a column, not two values");
    }
    Expr expr;
    expr.kind = Expr::Kind::kCompare;
    const Token& column = left_column ? left : right;
    const Token& value = left_column ? right : left;
    expr.column = column.value;
    expr.column_position = column.position;
    expr.op = left_column ? op : Flip(op);
    expr.literal.position = value.position;
    expr.literal.source = std::string(value.source);
    expr.literal.value = value.value;
    switch (value.kind) {
      case Token::Kind::kNumber:
        expr.literal.kind = Literal::Kind::kNumber;
        break;
      case Token::Kind::kString:
        expr.literal.kind = Literal::Kind::kString;
        break;
      case Token::Kind::kTrue:
      case Token::Kind::kFalse:
        expr.literal.kind = Literal::Kind::kBool;
        expr.literal.boolean = value.kind == Token::Kind::kTrue;
        break;
      default:
        expr.literal.kind = Literal::Kind::kNull;
        break;
    }
    return expr;
  }

  // A column name or a literal; consumes it.
  Token Operand() {
    switch (token_.kind) {
      case Token::Kind::kName:
      case Token::Kind::kNumber:
      case Token::Kind::kString:
      case Token::Kind::kTrue:
      case Token::Kind::kFalse:
      case Token::Kind::kNull: {
        Token operand = token_;
        Next();
        return operand;
      }
      default:
        Fail("expected a column or a value");
    }
  }

  static CompareOp Flip(CompareOp op) {
    switch (op) {
      case CompareOp::kLt:
        return CompareOp::kGt;
      case CompareOp::kLe:
        return CompareOp::kGe;
      case CompareOp::kGt:
        return CompareOp::kLt;
      case CompareOp::kGe:
        return CompareOp::kLe;
      default:
        return op;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  Token token_;
};

}  // namespace

const char* OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

Expr ParseFilter(std::string_view text) { return Parser(text).Parse(); }

}  // namespace zcpipe::stages::detail
