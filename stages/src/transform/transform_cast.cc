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

// A temporal type converts to and from string, int64 and the other temporal types only.
bool Supported(ColumnType from, ColumnType to) {
  const auto plain = [](ColumnType type) {
    return type == ColumnType::kString || type == ColumnType::kInt64 || IsTemporal(type);
  };
  return (!IsTemporal(from) || plain(to)) && (!IsTemporal(to) || plain(from));
}

// A temporal value as another temporal type: a date is its midnight, a local time (datetime) is
// taken as UTC and an instant gives its UTC wall time; a date takes a midnight only (false
// otherwise: a time of day would be lost).
bool ConvertTemporal(ColumnType from, ColumnType to, std::int64_t in, std::int64_t& out) {
  constexpr std::int64_t kDay = 86'400'000'000;
  const std::int64_t micros = from == ColumnType::kDate ? in * kDay : in;
  out = to == ColumnType::kDate ? micros / kDay : micros;
  return to != ColumnType::kDate || micros % kDay == 0;
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
      case ColumnType::kTimestamp:
      case ColumnType::kDate:
      case ColumnType::kDateTime: {
        const auto v = detail::ParseTemporal(to, in.s);
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
  if (IsTemporal(from) && IsTemporal(to)) return ConvertTemporal(from, to, in.i, out.i);
  // Numeric kinds: int64 and the temporal types share `i`.
  switch (to) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
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
      out.i = in.i;  // int64 ↔ a temporal type's number: days or microseconds
      return !IsTemporal(to) || detail::InTemporalRange(to, in.i);
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
        row.error->detail = c.from == ColumnType::kInt64 && IsTemporal(c.to)
                                ? detail::RangeDetail(c.to, text)
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
                                " (timestamp, date and datetime convert to each other, and to "
                                "and from string and int64)");
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
