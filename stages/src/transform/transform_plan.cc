#include "transform/transform_plan.h"

#include <stdexcept>

#include "transform/transform_value.h"

namespace zcpipe::stages::detail {

std::vector<ColumnSpec> Plan::OutputColumns() const {
  std::vector<ColumnSpec> columns;
  columns.reserve(outputs.size());
  for (const auto& slot : outputs) columns.push_back({slot.name, slot.type});
  return columns;
}

PlanBuilder::PlanBuilder(std::span<const ColumnSpec> input)
    : input_used_(input.size(), false), slot_count_(static_cast<std::uint32_t>(input.size())) {
  columns_.reserve(input.size());
  for (std::uint32_t i = 0; i < input.size(); ++i) {
    columns_.push_back({input[i].name, input[i].type, i});
  }
}

StageResult<std::size_t> PlanBuilder::Find(std::string_view who, std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  std::string message = std::string(who) + ": no column '" + std::string(name) + "' (columns:";
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    message += (i == 0 ? " " : ", ") + columns_[i].name;
  }
  return BindFail(message + ")");
}

std::uint32_t PlanBuilder::Use(std::uint32_t slot) {
  if (slot < input_used_.size()) input_used_[slot] = true;
  return slot;
}

Plan PlanBuilder::Finish() && {
  Plan plan;
  plan.input_count = static_cast<std::uint32_t>(input_used_.size());
  for (std::uint32_t i = 0; i < input_used_.size(); ++i) {
    if (input_used_[i]) plan.loads.push_back(i);
  }
  plan.ops = std::move(ops_);
  plan.outputs = std::move(columns_);
  plan.slot_count = slot_count_;
  return plan;
}

StageResult<Plan> Compile(std::span<const std::shared_ptr<const Step>> steps,
                          std::span<const ColumnSpec> input) {
  PlanBuilder builder(input);
  for (const auto& step : steps) {
    if (auto bound = step->Bind(builder); !bound) return tl::unexpected(std::move(bound.error()));
  }
  return std::move(builder).Finish();
}

std::vector<ColumnSpec> InputColumns(const BatchView& in) {
  std::vector<ColumnSpec> columns;
  columns.reserve(in.column_count());
  for (std::size_t i = 0; i < in.column_count(); ++i) {
    columns.push_back({std::string(in.column(i).name()), in.column(i).type()});
  }
  return columns;
}

PlanRun RunPlan(Plan& plan, const BatchView& in, InputErrors& rejected, std::uint32_t first_row,
                std::size_t budget) {
  const auto output_columns = plan.OutputColumns();
  PlanRun run{TransformWriter(in, output_columns), 0, 0, 0};
  struct Load {
    ColumnView column;
    ColumnType type;
    std::uint32_t slot;
  };
  std::vector<Load> loads;
  loads.reserve(plan.loads.size());
  for (const std::uint32_t i : plan.loads) loads.push_back({in.column(i), in.column(i).type(), i});
  // Outputs that are input columns as they are (no operation writes an input slot) are copied
  // column by column once the rows are decided; the others are appended row by row.
  std::vector<std::size_t> computed, passed;
  for (std::size_t c = 0; c < plan.outputs.size(); ++c) {
    (plan.outputs[c].id < plan.input_count ? passed : computed).push_back(c);
  }
  // With a budget, what a kept row adds to the output's size bound: a fixed part, and the text
  // of its string values (computed ones from their slot, passed ones from the input column).
  const bool budgeted = budget != SIZE_MAX;
  const std::size_t empty_bound = run.writer.SizeBound();
  std::size_t bound = empty_bound, fixed_cost = kRowSizeBound;
  std::vector<std::uint32_t> string_slots;
  std::vector<ColumnView> string_inputs;
  for (const auto& output : plan.outputs) {
    fixed_cost += ValueSizeBound(output.type, 0);
    if (output.type != ColumnType::kString) continue;
    if (output.id < plan.input_count) {
      string_inputs.push_back(in.column(output.id));
    } else {
      string_slots.push_back(output.id);
    }
  }
  // The input rows kept. Kept per thread across batches: a fresh vector of 100+ KiB is fresh
  // memory from the kernel, a page fault per 4 KiB, on every batch.
  thread_local std::vector<std::uint32_t> kept;
  kept.clear();

  std::vector<Value> values(plan.slot_count);
  std::vector<std::string> text(plan.slot_count);
  InputError error{};
  Row row{values, text, &error};
  const std::uint32_t rows = in.row_count();
  std::uint32_t r = first_row;
  if (budgeted && empty_bound > budget) r = rows;  // no room for any row: none is run
  for (; r < rows; ++r) {
    for (const auto& load : loads) ReadValue(load.column, load.type, r, values[load.slot]);
    RowOutcome outcome = RowOutcome::kKeep;
    for (const auto& op : plan.ops) {
      outcome = op->Run(row);
      if (outcome != RowOutcome::kKeep) break;
    }
    if (outcome == RowOutcome::kKeep && budgeted) {
      std::size_t cost = fixed_cost;
      for (const std::uint32_t slot : string_slots) {
        if (!values[slot].null) cost += values[slot].s.size();
      }
      for (const auto& column : string_inputs) cost += column.string(r).size();
      if (empty_bound + cost > budget) {  // not even alone in a block
        error.reason = InputErrc::kRecordTooLarge;
        error.column.clear();
        error.detail = "the row's output needs up to " + std::to_string(cost) +
                       " bytes, a batch has room for " + std::to_string(budget - empty_bound);
        outcome = RowOutcome::kReject;
      } else if (bound + cost > budget) {  // the block is full: the rest goes into another
        break;
      } else {
        bound += cost;
      }
    }
    switch (outcome) {
      case RowOutcome::kKeep:
        for (const std::size_t c : computed) {
          AppendValue(run.writer.column(c), plan.outputs[c].type, values[plan.outputs[c].id]);
        }
        run.writer.EndRow(r);
        kept.push_back(r);
        break;
      case RowOutcome::kDrop:
        ++run.rows_filtered;
        break;
      case RowOutcome::kReject:
        rejected.push_back(
            run.writer.Reject(r, error.reason, std::move(error.column), std::move(error.detail)));
        ++run.rows_rejected;
        break;
    }
  }
  run.rows_run = r - first_row;
  for (const std::size_t c : passed) {
    run.writer.CopyRows(c, in.column(plan.outputs[c].id), kept);
  }
  return run;
}

StageResult<TransformOutput> ApplySteps(std::span<const std::shared_ptr<const Step>> steps,
                                        const BatchView& in, std::uint32_t first_row,
                                        std::span<std::byte> out, InputErrors& rejected,
                                        std::string_view who) {
  auto plan = Compile(steps, InputColumns(in));
  if (!plan) return StageFail(StageErrc::kSchemaMismatch, std::string(who) + plan.error().message);
  const std::size_t rejected_before = rejected.size();
  const auto run = RunPlan(*plan, in, rejected, first_row, WritableBatchBytes(out));
  if (run.rows_run == 0 && first_row < in.row_count()) {
    return tl::unexpected(StageError{StageErrc::kBatchTooLarge,
                                     std::string(who) + "a block of " + std::to_string(out.size()) +
                                         " bytes cannot hold even an empty batch",
                                     run.writer.SizeBound()});
  }
  auto output = run.writer.Finish(out, run.rows_rejected, run.rows_filtered);
  if (!output) {
    rejected.erase(rejected.begin() + static_cast<std::ptrdiff_t>(rejected_before), rejected.end());
  }
  return output;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto comma = text.find(',');
    parts.push_back(Trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

void CheckNames(std::string_view who, std::span<const std::string> names) {
  if (names.empty()) throw std::invalid_argument(std::string(who) + ": no columns given");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw std::invalid_argument(std::string(who) + ": empty column name");
    for (std::size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        throw std::invalid_argument(std::string(who) + ": '" + names[i] + "' listed twice");
      }
    }
  }
}

}  // namespace zcpipe::stages::detail

namespace zcpipe::stages {

BuiltinTransform::BuiltinTransform(std::shared_ptr<const detail::Step> step)
    : step_(std::move(step)) {}

Schema BuiltinTransform::OutputSchema(const Schema& input) const {
  auto plan = detail::Compile(std::span(&step_, 1), input.columns());
  if (!plan) throw std::invalid_argument(plan.error().message);
  return Schema(plan->OutputColumns());
}

StageResult<TransformOutput> BuiltinTransform::Apply(const BatchView& in, std::span<std::byte> out,
                                                     InputErrors& rejected) const {
  auto plan = detail::Compile(std::span(&step_, 1), detail::InputColumns(in));
  if (!plan) return tl::unexpected(std::move(plan.error()));
  const std::size_t rejected_before = rejected.size();
  const auto run = detail::RunPlan(*plan, in, rejected);
  auto output = run.writer.Finish(out, run.rows_rejected, run.rows_filtered);
  if (!output)
    rejected.erase(rejected.begin() + static_cast<std::ptrdiff_t>(rejected_before), rejected.end());
  return output;
}

StageResult<TransformOutput> BuiltinTransform::ApplyFrom(const BatchView& in,
                                                         std::uint32_t first_row,
                                                         std::span<std::byte> out,
                                                         InputErrors& rejected) const {
  return detail::ApplySteps(std::span(&step_, 1), in, first_row, out, rejected);
}

}  // namespace zcpipe::stages
