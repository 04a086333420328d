// The engine behind the built-in transforms. A built-in is a Step (its configuration); steps are
// compiled against a batch's schema into a Plan, a list of row operations over "slots" (one per
// input column plus one per value an operation produces), then the plan runs once over the
// rows. Projections (select, rename) only rearrange the compile-time column list and cost
// nothing per row; several steps in a row compile into one plan (fusion).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/error.h"
#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/schema.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages::detail {

// One value of the current row. The slot's type says which member holds it.
struct Value {
  bool null = true;
  bool b = false;
  std::int64_t i = 0;  // int64, timestamp (microseconds)
  double f = 0;
  std::string_view s;  // into the input batch or into Row::text
};

// A column at some point of the plan: its name, its type, and the slot that holds its value.
struct Slot {
  std::string name;
  ColumnType type;
  std::uint32_t id;
};

enum class RowOutcome : std::uint8_t { kKeep, kDrop, kReject };

// What an operation sees of the current row.
struct Row {
  std::span<Value> values;      // by slot id
  std::span<std::string> text;  // by slot id: storage for the strings operations produce
  InputError* error;            // a rejecting operation sets reason, column and detail
};

// One operation of a plan, run on every row that reaches it (rows stop at the first operation
// that drops or rejects them). Created per compile, so it may keep per-call state.
class Op {
 public:
  virtual ~Op() = default;
  [[nodiscard]] virtual RowOutcome Run(Row& row) = 0;
};

// A compiled chain of steps, for one input schema. Per-call: not thread-safe.
struct Plan {
  std::uint32_t input_count = 0;     // slots [0, input_count) are the input columns, read-only
  std::vector<std::uint32_t> loads;  // input columns operations read (slot id = column index)
  std::vector<std::unique_ptr<Op>> ops;
  std::vector<Slot> outputs;
  std::uint32_t slot_count = 0;
  [[nodiscard]] std::vector<ColumnSpec> OutputColumns() const;
};

// A step bound to its columns, or why not: kSchemaMismatch, naming the problem (an unknown
// column, a type).
using BindResult = StageResult<void>;
inline tl::unexpected<StageError> BindFail(std::string message) {
  return StageFail(StageErrc::kSchemaMismatch, std::move(message));
}

// Compile-time state: the current columns, the slots, the operations so far.
class PlanBuilder {
 public:
  explicit PlanBuilder(std::span<const ColumnSpec> input);

  [[nodiscard]] std::vector<Slot>& columns() { return columns_; }
  // The index in columns() of `name`, or kSchemaMismatch "<who>: no column 'x' (columns: a, b)".
  [[nodiscard]] StageResult<std::size_t> Find(std::string_view who, std::string_view name) const;
  // Marks `slot` as read by an operation; returns it.
  std::uint32_t Use(std::uint32_t slot);
  [[nodiscard]] std::uint32_t NewSlot() { return slot_count_++; }
  void Add(std::unique_ptr<Op> op) { ops_.push_back(std::move(op)); }
  [[nodiscard]] Plan Finish() &&;

 private:
  std::vector<Slot> columns_;
  std::vector<bool> input_used_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::uint32_t slot_count_;
};

// A built-in transform's configuration. Immutable and shared; Bind is thread-safe.
class Step {
 public:
  virtual ~Step() = default;
  // Binds the step to the columns `plan` has at this point: adds operations and updates
  // plan.columns(). Errors: kSchemaMismatch (BindResult).
  [[nodiscard]] virtual BindResult Bind(PlanBuilder& plan) const = 0;
};

using Steps = std::vector<std::shared_ptr<const Step>>;

// Compiles `steps` against `input`. Error: the first step's message.
[[nodiscard]] StageResult<Plan> Compile(std::span<const std::shared_ptr<const Step>> steps,
                                        std::span<const ColumnSpec> input);

// The input columns of a batch (names may repeat in a hostile batch; Find takes the first).
[[nodiscard]] std::vector<ColumnSpec> InputColumns(const BatchView& in);

// The result of running a plan: the output rows, ready to be written, and the counts.
struct PlanRun {
  TransformWriter writer;
  std::uint32_t rows_rejected = 0;
  std::uint32_t rows_filtered = 0;
  std::uint32_t rows_run = 0;  // input rows covered: kept, rejected or filtered
};

// Runs `plan` over the rows of `in` from `first_row` on, appending rejected rows to `rejected`.
// With a `budget` (bytes, as WritableBatchBytes counts them), it stops before the first kept
// row that would take the output's BatchSizeBound past it, so that the caller writes the rows
// run so far into its block and runs the rest into another; a row that does not fit even an
// empty batch of that size is rejected (kRecordTooLarge). REQUIRES: first_row <= row count.
[[nodiscard]] PlanRun RunPlan(Plan& plan, const BatchView& in, InputErrors& rejected,
                              std::uint32_t first_row = 0, std::size_t budget = SIZE_MAX);

// Compiles `steps` against `in` and writes rows from `first_row` on into `out`, as many as fit:
// Transform::ApplyFrom for built-ins. Errors: kSchemaMismatch (`who` + the step's message),
// kBatchTooLarge when `out` cannot hold even an empty batch.
[[nodiscard]] StageResult<TransformOutput> ApplySteps(
    std::span<const std::shared_ptr<const Step>> steps, const BatchView& in,
    std::uint32_t first_row, std::span<std::byte> out, InputErrors& rejected,
    std::string_view who = {});

// A growable 8-byte-aligned buffer for an intermediate batch. Not zeroed.
class Scratch {
 public:
  [[nodiscard]] std::span<std::byte> Get(std::size_t bytes) {
    const std::size_t words = (bytes + 7) / 8;
    if (words > words_) {
      data_ = std::make_unique_for_overwrite<std::uint64_t[]>(words);
      words_ = words;
    }
    return std::as_writable_bytes(std::span(data_.get(), words));
  }

 private:
  std::unique_ptr<std::uint64_t[]> data_;
  std::size_t words_ = 0;
};

// Splits "a, b ,c" on commas and trims each part; empty parts are kept (callers refuse them).
[[nodiscard]] std::vector<std::string_view> SplitList(std::string_view text);
[[nodiscard]] std::string_view Trim(std::string_view text);
// Throws std::invalid_argument("<who>: '<name>' listed twice") for a repeated name, and for an
// empty list or name.
void CheckNames(std::string_view who, std::span<const std::string> names);

}  // namespace zcpipe::stages::detail
