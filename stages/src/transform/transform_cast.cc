// cast: convert columns to other types, rejecting rows whose values do not convert.
#include <cmath>
#include <stdexcept>

#include "transform/transform_plan.h"
#include "transform/transform_value.h"
#include "values/values.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

using detail::Value;

bool Supported(ColumnType from, ColumnType to) {
  const bool timestamp = from == ColumnType::kTimestamp || to == ColumnType::kTimestamp;
  const bool other_side_ok = from == ColumnType::kString || to == ColumnType::kString ||
                             from == ColumnType::kInt64 || to == ColumnType::kInt64;
  return !timestamp || other_side_ok;
}

// Converts the non-null `in` from `from` to `to` into `out`; false when it does not convert
// or would lose something (the rules of values.h: 9007199254740993 is no float64).
// A string result is built in `text`.
bool Convert(ColumnType from, ColumnType to, const Value& in, Value& out, std::string& text) {
  out.null = false;
  if (to == ColumnType::kString) {
    text.clear();
    detail::FormatValue(from, in, text);
    out.s = text;
    return true;
  }
  if (from == ColumnType::kString) {
    switch (to) {
      case ColumnType::kInt64: {
        const auto v = detail::ParseInt64(in.s);
        out.i = v.value_or(0);
        return v.has_value();
      }
      case ColumnType::kTimestamp: {
        const auto v = detail::ParseTimestamp(in.s);
        out.i = v.value_or(0);
        return v.has_value();
      }
      case ColumnType::kFloat64: {
        const auto v = detail::ParseExactFloat64(in.s);
        out.f = v.value_or(0);
        return v.has_value();
      }
      case ColumnType::kBool: {
        const auto v = detail::ParseBool(in.s);
        out.b = v.value_or(false);
        return v.has_value();
      }
      case ColumnType::kString:
        break;
    }
    return false;
  }
  // Numeric kinds: int64 and timestamp share `i`.
  switch (to) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      if (from == ColumnType::kBool) {
        out.i = in.b ? 1 : 0;
        return true;
      }
      if (from == ColumnType::kFloat64) {
        // [-2^63, 2^63): both bounds are exact doubles. NaN fails every comparison.
        if (!(in.f >= -9223372036854775808.0 && in.f < 9223372036854775808.0) ||
            std::trunc(in.f) != in.f) {
          return false;
        }
        out.i = static_cast<std::int64_t>(in.f);
        return detail::Float64HoldsInt64(out.i);  // 2^60 prints as 1.152921504606847e+18
      }
      out.i = in.i;  // int64 ↔ timestamp
      return to != ColumnType::kTimestamp || detail::IsTimestamp(in.i);
    case ColumnType::kFloat64:
      out.f = from == ColumnType::kBool ? (in.b ? 1.0 : 0.0) : static_cast<double>(in.i);
      return from == ColumnType::kBool || detail::Float64HoldsInt64(in.i);
    case ColumnType::kBool: {
      const double number = from == ColumnType::kFloat64 ? in.f : static_cast<double>(in.i);
      out.b = number == 1.0;
      return (from == ColumnType::kFloat64 && (in.f == 0.0 || in.f == 1.0)) ||
             (from == ColumnType::kInt64 && (in.i == 0 || in.i == 1));
    }
    case ColumnType::kString:
      break;
  }
  return false;
}

struct Conversion {
  std::uint32_t from_slot;
  std::uint32_t to_slot;
  ColumnType from;
  ColumnType to;
  std::string column;
};

class CastOp final : public detail::Op {
 public:
  explicit CastOp(std::vector<Conversion> conversions) : conversions_(std::move(conversions)) {}

  detail::RowOutcome Run(detail::Row& row) override {
    for (const auto& c : conversions_) {
      const Value& in = row.values[c.from_slot];
      Value& out = row.values[c.to_slot];
      if (in.null) {
        out = Value{};
      } else if (!Convert(c.from, c.to, in, out, row.text[c.to_slot])) {
        row.error->reason = detail::BadValueReason(c.to);
        row.error->column = c.column;
        std::string text;
        detail::FormatValue(c.from, in, text);
        row.error->detail = c.from == ColumnType::kInt64 && c.to == ColumnType::kTimestamp
                                ? detail::MicrosDetail(text)
                                : detail::BadValueDetail(c.to, text, text);
        return detail::RowOutcome::kReject;
      }
    }
    return detail::RowOutcome::kKeep;
  }

 private:
  std::vector<Conversion> conversions_;
};

class CastStep final : public detail::Step {
 public:
  explicit CastStep(std::vector<ColumnSpec> casts) : casts_(std::move(casts)) {
    std::vector<std::string> names;
    for (const auto& cast : casts_) names.push_back(cast.name);
    detail::CheckNames("cast", names);
  }

  detail::BindResult Bind(detail::PlanBuilder& plan) const override {
    std::vector<Conversion> conversions;
    for (const auto& cast : casts_) {
      const auto index = plan.Find("cast", cast.name);
      if (!index) return tl::unexpected(index.error());
      auto& column = plan.columns()[*index];
      if (column.type == cast.type) continue;
      if (!Supported(column.type, cast.type)) {
        return detail::BindFail("cast: cannot convert '" + column.name + "' from " +
                                TypeName(column.type) + " to " + TypeName(cast.type) +
                                " (timestamps convert to and from int64 microseconds and string)");
      }
      conversions.push_back(
          {plan.Use(column.id), plan.NewSlot(), column.type, cast.type, column.name});
      column.type = cast.type;
      column.id = conversions.back().to_slot;
    }
    if (!conversions.empty()) plan.Add(std::make_unique<CastOp>(std::move(conversions)));
    return {};
  }

 private:
  std::vector<ColumnSpec> casts_;
};

}  // namespace

CastTransform::CastTransform(std::vector<ColumnSpec> casts)
    : BuiltinTransform(std::make_shared<CastStep>(std::move(casts))) {}

}  // namespace zcpipe::stages
