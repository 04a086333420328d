// TransformChain: consecutive built-ins fused into one plan; user transforms in between write
// into scratch buffers owned by the call.
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>

#include "transform/transform_plan.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {

struct TransformChain::Segment {
  detail::Steps steps;              // fused built-ins, when user is null
  const Transform* user = nullptr;  // one user transform
  std::size_t first = 0;            // index of its first transform in the chain, for messages
};

namespace {

bool Inside(std::span<const std::byte> inner, std::span<const std::byte> outer) {
  const std::less_equal<const std::byte*> le;
  return le(outer.data(), inner.data()) &&
         le(inner.data() + inner.size(), outer.data() + outer.size());
}

constexpr int kUserRetries = 3;

}  // namespace

TransformChain::TransformChain(std::vector<std::unique_ptr<Transform>> transforms)
    : transforms_(std::move(transforms)) {
  bool rebuildable = true;
  for (const auto& transform : transforms_) {
    if (transform == nullptr) continue;  // refused below
    rebuildable = rebuildable && !transform->recipe().empty();
    if (rebuildable) {
      recipe_.insert(recipe_.end(), transform->recipe().begin(), transform->recipe().end());
    }
  }
  if (!rebuildable) recipe_.clear();
  for (std::size_t i = 0; i < transforms_.size(); ++i) {
    if (transforms_[i] == nullptr) {
      throw std::invalid_argument("transform chain: transform " + std::to_string(i) + " is null");
    }
    if (const auto* builtin = dynamic_cast<const BuiltinTransform*>(transforms_[i].get())) {
      if (segments_.empty() || segments_.back().user != nullptr)
        segments_.push_back({{}, nullptr, i});
      segments_.back().steps.push_back(builtin->step());
    } else {
      segments_.push_back({{}, transforms_[i].get(), i});
    }
  }
  if (segments_.empty()) segments_.push_back({});  // no transform: a copy
}

TransformChain::~TransformChain() = default;

Schema TransformChain::OutputSchema(const Schema& input) const {
  Schema schema = input;
  for (const auto& transform : transforms_) schema = transform->OutputSchema(schema);
  return schema;
}

StageResult<TransformOutput> TransformChain::Apply(const BatchView& in, std::span<std::byte> out,
                                                   InputErrors& rejected) const {
  const std::size_t rejected_before = rejected.size();
  auto fail = [&](StageErrc code, std::string message) {
    rejected.erase(rejected.begin() + static_cast<std::ptrdiff_t>(rejected_before), rejected.end());
    return StageFail(code, std::move(message));
  };
  detail::Scratch scratch[2];
  int next = 0;  // the scratch the next intermediate goes into; the other holds `current`
  std::optional<BatchView> intermediate;
  const BatchView* current = &in;
  TransformOutput total;

  for (std::size_t s = 0; s < segments_.size(); ++s) {
    const Segment& segment = segments_[s];
    const bool last = s + 1 == segments_.size();
    const std::string who = "transform " + std::to_string(segment.first) + ": ";
    StageResult<TransformOutput> result;
    if (segment.user == nullptr) {
      auto plan = detail::Compile(segment.steps, detail::InputColumns(*current));
      if (!plan) return fail(StageErrc::kSchemaMismatch, who + plan.error().message);
      const auto run = detail::RunPlan(*plan, *current, rejected);
      const auto target = last ? out : scratch[next].Get(run.writer.SizeBound());
      result = run.writer.Finish(target, run.rows_rejected, run.rows_filtered);
    } else {
      // A user transform: its output size is unknown, so grow the scratch on kBatchTooLarge.
      std::size_t size = std::max(out.size(), 2 * current->bytes().size());
      for (int attempt = 0;; ++attempt, size *= 2) {
        const std::size_t mark = rejected.size();
        const auto target = last ? out : scratch[next].Get(size);
        result = segment.user->Apply(*current, target, rejected);
        if (result && !Inside(result->batch, target)) {
          return fail(StageErrc::kInvalidArgument, who + "returned a batch outside its block");
        }
        if (result) {
          result->rows_rejected = static_cast<std::uint32_t>(rejected.size() - mark);
          break;
        }
        rejected.erase(rejected.begin() + static_cast<std::ptrdiff_t>(mark), rejected.end());
        if (last || result.error().code != StageErrc::kBatchTooLarge || attempt == kUserRetries) {
          break;
        }
      }
    }
    if (!result) return fail(result.error().code, who + result.error().message);
    if (current->row_count() !=
        std::uint64_t{result->rows_out} + result->rows_rejected + result->rows_filtered) {
      return fail(StageErrc::kInvalidArgument,
                  who + "rows in != rows out + rows rejected + rows filtered");
    }
    total.rows_rejected += result->rows_rejected;
    total.rows_filtered += result->rows_filtered;
    if (last) {
      total.batch = result->batch;
      total.rows_out = result->rows_out;
      break;
    }
    auto view = BatchView::Open(result->batch);
    if (!view) return fail(view.error().code, who + view.error().message);
    if (view->row_count() != result->rows_out) {
      return fail(StageErrc::kInvalidArgument, who + "rows_out differs from its batch");
    }
    intermediate = *view;
    current = &*intermediate;
    next ^= 1;
  }
  return total;
}

StageResult<TransformOutput> TransformChain::ApplyFrom(const BatchView& in, std::uint32_t first_row,
                                                       std::span<std::byte> out,
                                                       InputErrors& rejected) const {
  if (segments_.size() == 1 && segments_.front().user == nullptr) {
    return detail::ApplySteps(segments_.front().steps, in, first_row, out, rejected,
                              "transform 0: ");
  }
  return Transform::ApplyFrom(in, first_row, out, rejected);
}

}  // namespace zcpipe::stages
