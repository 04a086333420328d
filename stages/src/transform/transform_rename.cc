// rename: new names for some columns, all at once. Compile time only: no per-row work.
#include <stdexcept>

#include "transform/transform_plan.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

class RenameStep final : public detail::Step {
 public:
  explicit RenameStep(std::vector<RenameTransform::Rename> renames) : renames_(std::move(renames)) {
    std::vector<std::string> from;
    for (const auto& rename : renames_) {
      if (rename.to.empty()) {
        throw std::invalid_argument("rename: empty new name for '" + rename.from + "'");
      }
      from.push_back(rename.from);
    }
    detail::CheckNames("rename", from);
  }

  detail::BindResult Bind(detail::PlanBuilder& plan) const override {
    std::vector<std::size_t> indices;
    for (const auto& rename : renames_) {
      const auto index = plan.Find("rename", rename.from);
      if (!index) return tl::unexpected(index.error());
      indices.push_back(*index);
    }
    auto& columns = plan.columns();
    for (std::size_t i = 0; i < indices.size(); ++i) columns[indices[i]].name = renames_[i].to;
    for (const std::size_t renamed : indices) {
      for (std::size_t j = 0; j < columns.size(); ++j) {
        if (j != renamed && columns[j].name == columns[renamed].name) {
          return detail::BindFail("rename: two columns would be named '" + columns[j].name + "'");
        }
      }
    }
    return {};
  }

 private:
  std::vector<RenameTransform::Rename> renames_;
};

}  // namespace

RenameTransform::RenameTransform(std::vector<Rename> renames)
    : BuiltinTransform(std::make_shared<RenameStep>(std::move(renames))) {}

}  // namespace zcpipe::stages
