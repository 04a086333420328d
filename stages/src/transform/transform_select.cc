// select: keep some columns, in a given order. Compile time only: no per-row work.
#include "transform/transform_plan.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

class SelectStep final : public detail::Step {
 public:
  explicit SelectStep(std::vector<std::string> columns) : columns_(std::move(columns)) {
    detail::CheckNames("select", columns_);
  }

  detail::BindResult Bind(detail::PlanBuilder& plan) const override {
    std::vector<detail::Slot> selected;
    selected.reserve(columns_.size());
    for (const auto& name : columns_) {
      const auto index = plan.Find("select", name);
      if (!index) return tl::unexpected(index.error());
      selected.push_back(plan.columns()[*index]);
    }
    plan.columns() = std::move(selected);
    return {};
  }

 private:
  std::vector<std::string> columns_;
};

}  // namespace

SelectTransform::SelectTransform(std::vector<std::string> columns)
    : BuiltinTransform(std::make_shared<SelectStep>(std::move(columns))) {}

}  // namespace zcpipe::stages
