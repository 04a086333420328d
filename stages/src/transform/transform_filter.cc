// filter: binds a parsed expression to the columns (type-checking its literals) and keeps the
// rows for which it holds.
#include <cmath>
#include <compare>
#include <stdexcept>

#include "transform/transform_filter_expr.h"
#include "transform/transform_plan.h"
#include "values/values.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

using detail::CompareOp;
using detail::Expr;
using detail::Literal;
using detail::Value;

// An expression bound to slots, with typed literals.
struct Node {
  enum class Kind : std::uint8_t {
    kOr,
    kAnd,
    kNot,
    kIsNull,
    kIsNotNull,
    kInt,       // int64/timestamp column, integer literal i
    kIntFloat,  // int64 column, non-integer literal f (compared exactly)
    kFloat,     // float64 column, literal f
    kBool,      // bool column, literal b (== and != only)
    kString,    // string column, literal s (bytewise)
  };
  Kind kind = Kind::kOr;
  std::vector<Node> children;
  std::uint32_t slot = 0;
  CompareOp op = CompareOp::kEq;
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
};

bool Holds(CompareOp op, std::partial_ordering order) {
  switch (op) {
    case CompareOp::kEq:
      return order == 0;
    case CompareOp::kNe:
      return order != 0;  // true for unordered (NaN)
    case CompareOp::kLt:
      return order < 0;
    case CompareOp::kLe:
      return order <= 0;
    case CompareOp::kGt:
      return order > 0;
    case CompareOp::kGe:
      return order >= 0;
  }
  return false;
}

// v <=> d without rounding v to a double.
std::partial_ordering CompareExact(std::int64_t v, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= 9223372036854775808.0) return std::partial_ordering::less;  // 2^63
  if (d < -9223372036854775808.0) return std::partial_ordering::greater;
  const double floor = std::floor(d);
  const auto whole = static_cast<std::int64_t>(floor);
  if (v != whole) return v < whole ? std::partial_ordering::less : std::partial_ordering::greater;
  return floor == d ? std::partial_ordering::equivalent : std::partial_ordering::less;
}

bool Eval(const Node& node, std::span<const Value> values) {
  switch (node.kind) {
    case Node::Kind::kOr:
      for (const auto& child : node.children) {
        if (Eval(child, values)) return true;
      }
      return false;
    case Node::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!Eval(child, values)) return false;
      }
      return true;
    case Node::Kind::kNot:
      return !Eval(node.children.front(), values);
    case Node::Kind::kIsNull:
      return values[node.slot].null;
    case Node::Kind::kIsNotNull:
      return !values[node.slot].null;
    default:
      break;
  }
  const Value& value = values[node.slot];
  if (value.null) return false;
  switch (node.kind) {
    case Node::Kind::kInt:
      return Holds(node.op, value.i <=> node.i);
    case Node::Kind::kIntFloat:
      return Holds(node.op, CompareExact(value.i, node.f));
    case Node::Kind::kFloat:
      return Holds(node.op, value.f <=> node.f);
    case Node::Kind::kBool:
      return (value.b == node.b) == (node.op == CompareOp::kEq);
    case Node::Kind::kString:
      return Holds(node.op, value.s <=> std::string_view(node.s));
    default:
      return false;
  }
}

std::string At(std::size_t position) { return " (position " + std::to_string(position) + ")"; }

// Binds a comparison: resolves the column, checks the literal against its type.
detail::BindResult BindCompare(const Expr& expr, detail::PlanBuilder& plan, Node& node) {
  const auto index = plan.Find("filter", expr.column);
  if (!index) return detail::BindFail(index.error().message + At(expr.column_position));
  const auto& column = plan.columns()[*index];
  node.slot = plan.Use(column.id);
  node.op = expr.op;
  const Literal& literal = expr.literal;
  const bool equality = expr.op == CompareOp::kEq || expr.op == CompareOp::kNe;
  const std::string where = "column '" + column.name + "' is " + TypeName(column.type);
  if (literal.kind == Literal::Kind::kNull) {
    if (!equality) {
      return detail::BindFail("filter: null can only be compared with == or !=, not " +
                              std::string(OpText(expr.op)) + At(literal.position));
    }
    node.kind = expr.op == CompareOp::kEq ? Node::Kind::kIsNull : Node::Kind::kIsNotNull;
    return {};
  }
  auto wrong = [&](const std::string& wanted) -> detail::BindResult {
    return detail::BindFail("filter: " + where + ": compare it with " + wanted + ", not " +
                            literal.source + At(literal.position));
  };
  switch (column.type) {
    case ColumnType::kInt64:
    case ColumnType::kFloat64: {
      if (literal.kind != Literal::Kind::kNumber) return wrong("a number");
      const auto integer = detail::ParseInt64(literal.value);
      const auto real = detail::ParseFloat64(literal.value);
      if (!real) return wrong("a number");  // cannot happen for a lexed number
      if (column.type == ColumnType::kFloat64) {
        node.kind = Node::Kind::kFloat;
        node.f = *real;
      } else if (integer) {
        node.kind = Node::Kind::kInt;
        node.i = *integer;
      } else {
        node.kind = Node::Kind::kIntFloat;
        node.f = *real;
      }
      return {};
    }
    case ColumnType::kBool:
      if (literal.kind != Literal::Kind::kBool) return wrong("true or false");
      if (!equality) {
        return detail::BindFail("filter: " + where + ": only == and != apply to it, not " +
                                std::string(OpText(expr.op)) + At(expr.column_position));
      }
      node.kind = Node::Kind::kBool;
      node.b = literal.boolean;
      return {};
    case ColumnType::kString:
      if (literal.kind != Literal::Kind::kString) return wrong("a quoted string");
      node.kind = Node::Kind::kString;
      node.s = literal.value;
      return {};
    case ColumnType::kTimestamp: {
      if (literal.kind != Literal::Kind::kString) {
        return wrong("a quoted ISO 8601 time such as '2024-01-01'");
      }
      const auto micros = detail::ParseTimestamp(literal.value);
      if (!micros) {
        return detail::BindFail("filter: " + literal.source + " is not an ISO 8601 time" +
                                At(literal.position));
      }
      node.kind = Node::Kind::kInt;
      node.i = *micros;
      return {};
    }
  }
  return wrong("a value of its type");
}

detail::BindResult BindExpr(const Expr& expr, detail::PlanBuilder& plan, Node& node) {
  switch (expr.kind) {
    case Expr::Kind::kOr:
      node.kind = Node::Kind::kOr;
      break;
    case Expr::Kind::kAnd:
      node.kind = Node::Kind::kAnd;
      break;
    case Expr::Kind::kNot:
      node.kind = Node::Kind::kNot;
      break;
    case Expr::Kind::kCompare:
      return BindCompare(expr, plan, node);
  }
  node.children.resize(expr.children.size());
  for (std::size_t i = 0; i < expr.children.size(); ++i) {
    if (auto bound = BindExpr(expr.children[i], plan, node.children[i]); !bound) return bound;
  }
  return {};
}

class FilterOp final : public detail::Op {
 public:
  explicit FilterOp(Node root) : root_(std::move(root)) {}
  detail::RowOutcome Run(detail::Row& row) override {
    return Eval(root_, row.values) ? detail::RowOutcome::kKeep : detail::RowOutcome::kDrop;
  }

 private:
  Node root_;
};

class FilterStep final : public detail::Step {
 public:
  explicit FilterStep(std::string_view expression) : expr_(detail::ParseFilter(expression)) {}

  detail::BindResult Bind(detail::PlanBuilder& plan) const override {
    Node root;
    if (auto bound = BindExpr(expr_, plan, root); !bound) return bound;
    plan.Add(std::make_unique<FilterOp>(std::move(root)));
    return {};
  }

 private:
  Expr expr_;
};

}  // namespace

FilterTransform::FilterTransform(std::string_view expression)
    : BuiltinTransform(std::make_shared<FilterStep>(expression)) {}

}  // namespace zcpipe::stages
