// mask: replace the UTF-8 code points of string values with '*', keeping the last N.
#include "transform/transform_plan.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

using detail::Value;

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// `value` with all but its last `keep_last` code points replaced by '*', into `out`.
// A code point is counted at each byte that is not a continuation byte, so the result is
// well defined (and of the same code point count) for any bytes.
void Mask(std::string_view value, std::uint32_t keep_last, std::string& out) {
  std::size_t kept_from = value.size();  // start of the kept suffix
  for (std::uint32_t kept = 0; kept < keep_last && kept_from > 0;) {
    --kept_from;
    if (!IsContinuation(value[kept_from])) ++kept;
  }
  std::size_t masked = 0;
  for (std::size_t i = 0; i < kept_from; ++i) masked += IsContinuation(value[i]) ? 0 : 1;
  out.assign(masked, '*');
  out.append(value.substr(kept_from));
}

struct Masked {
  std::uint32_t from_slot;
  std::uint32_t to_slot;
  std::uint32_t keep_last;
};

class MaskOp final : public detail::Op {
 public:
  explicit MaskOp(std::vector<Masked> columns) : columns_(std::move(columns)) {}

  detail::RowOutcome Run(detail::Row& row) override {
    for (const auto& c : columns_) {
      const Value& in = row.values[c.from_slot];
      Value& out = row.values[c.to_slot];
      if (in.null) {
        out = Value{};
        continue;
      }
      std::string& text = row.text[c.to_slot];
      Mask(in.s, c.keep_last, text);
      out.null = false;
      out.s = text;
    }
    return detail::RowOutcome::kKeep;
  }

 private:
  std::vector<Masked> columns_;
};

class MaskStep final : public detail::Step {
 public:
  explicit MaskStep(std::vector<MaskTransform::Column> columns) : columns_(std::move(columns)) {
    std::vector<std::string> names;
    for (const auto& column : columns_) names.push_back(column.name);
    detail::CheckNames("mask", names);
  }

  detail::BindResult Bind(detail::PlanBuilder& plan) const override {
    std::vector<Masked> masked;
    for (const auto& spec : columns_) {
      const auto index = plan.Find("mask", spec.name);
      if (!index) return tl::unexpected(index.error());
      auto& column = plan.columns()[*index];
      if (column.type != ColumnType::kString) {
        return detail::BindFail("mask needs a string column: '" + column.name + "' is " +
                                TypeName(column.type));
      }
      masked.push_back({plan.Use(column.id), plan.NewSlot(), spec.keep_last});
      column.id = masked.back().to_slot;
    }
    plan.Add(std::make_unique<MaskOp>(std::move(masked)));
    return {};
  }

 private:
  std::vector<MaskTransform::Column> columns_;
};

}  // namespace

MaskTransform::MaskTransform(std::vector<Column> columns)
    : BuiltinTransform(std::make_shared<MaskStep>(std::move(columns))) {}

}  // namespace zcpipe::stages
