// Transforms: read a record batch in place and write a new one into an arena block.
//
// A Transform is what a user implements (or takes from the built-ins: select, rename, cast,
// filter, hash, mask). TransformWriter is the helper every transform writes through: it holds
// one ColumnBuffer per output column plus the input line of every kept row, and finishes with
// WriteBatch into the caller's block, keeping the input's BatchInfo. TransformChain applies
// several transforms as one stage. Text specs ("amount:float64") are in transform_spec.h.
//
// Row accounting, per Apply call:
//   rows_in = rows_out + rows_rejected + rows_filtered
// rows_rejected rows are bad data (a cast that fails) and are appended to `rejected` with their
// line numbers; rows_filtered rows were dropped on purpose by a filter and are not errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/error.h"
#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/key.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages {

// The result of one Transform::Apply.
struct TransformOutput {
  std::span<std::byte> batch;       // the RecordBatch written, inside the `out` block
  std::uint32_t rows_out = 0;       // rows in `batch`
  std::uint32_t rows_rejected = 0;  // rows this call appended to `rejected` (bad values)
  std::uint32_t rows_filtered = 0;  // rows dropped by a filter: not errors, not reported
};

// A transform over record batches. Implement it for a custom transform; write the output with
// a TransformWriter so that BatchInfo and row lines are kept.
//
// Contract for implementations:
//  - OutputSchema is called at configuration, once per job, and may throw
//    std::invalid_argument with a message naming the problem (e.g. an unknown column).
//  - Apply reads `in` in place and writes one batch into `out` (an arena block, 8-byte aligned
//    at its end); the returned TransformOutput::batch lies inside `out`. It keeps `in.info()`
//    and the line of every surviving row, appends each rejected row to `rejected` (line from
//    BatchView::row_line, an InputErrc reason), and satisfies
//    in.row_count() == rows_out + rows_rejected + rows_filtered.
//  - Apply reports errors as values, never by throwing (std::bad_alloc aside): kBatchTooLarge
//    when `out` is too small, kSchemaMismatch when `in` lacks what the transform needs. On
//    error `rejected` is left as it was and nothing in `out` is usable.
//  - Apply must be safe to call concurrently on different batches: it is const, and any state
//    it needs lives in the call.
// One step of a transform's recipe: what ParseTransform takes to make it again.
struct TransformStep {
  std::string kind;
  std::string spec;
  // The hashing key (hash), else null; secret: send it only privately. One copy, shared by the
  // copies of the recipe, wiped when the last goes.
  std::shared_ptr<const SecretBytes> key;
  [[nodiscard]] std::span<const std::byte> key_bytes() const {
    return key ? key->span() : std::span<const std::byte>{};
  }
};

class Transform {
 public:
  virtual ~Transform() = default;

  // How to make this transform again in another process (a worker): the ParseTransform steps
  // that rebuild it, in order; empty when it cannot be rebuilt there (an object not made by
  // ParseTransform, or a chain holding one).
  [[nodiscard]] const std::vector<TransformStep>& recipe() const { return recipe_; }

  // The schema this transform produces from `input`. Throws std::invalid_argument.
  [[nodiscard]] virtual Schema OutputSchema(const Schema& input) const = 0;

  [[nodiscard]] virtual StageResult<TransformOutput> Apply(const BatchView& in,
                                                           std::span<std::byte> out,
                                                           InputErrors& rejected) const = 0;

  // Applies the transform to the rows of `in` from `first_row` on, as many as `out` holds: what
  // the pipeline calls, block after block, so that an output larger than its input (a hash of
  // narrow columns, a cast to text, a transform of yours that widens rows) continues in another
  // block instead of failing. The call covers rows [first_row, first_row + n) with
  // n = rows_out + rows_rejected + rows_filtered >= 1; the caller calls again from
  // first_row + n, with a fresh block, until every row is covered. The batch written keeps
  // in.info(). A row whose output does not fit even an empty block is rejected
  // (kRecordTooLarge), so every call makes progress.
  // REQUIRES: first_row < in.row_count(), or first_row == 0 (an empty batch: one call).
  // Errors: as Apply; kBatchTooLarge only when `out` cannot hold even an empty batch.
  // The default runs Apply on the whole batch, and when its output does not fit, on a copy of
  // fewer rows (sized from StageError::needed) until one fits: correct for any Apply, at the
  // cost of a copy and of the attempts that did not fit. The built-ins override it and fill
  // the block row by row, with no attempt wasted.
  [[nodiscard]] virtual StageResult<TransformOutput> ApplyFrom(const BatchView& in,
                                                               std::uint32_t first_row,
                                                               std::span<std::byte> out,
                                                               InputErrors& rejected) const;

 protected:
  friend std::unique_ptr<Transform> ParseTransform(std::string_view, std::string_view,
                                                   std::span<const std::byte>);
  std::vector<TransformStep> recipe_;
};

// Builds a transform's output: one ColumnBuffer per output column, in schema order, and the
// input row each output row came from. Per-call state: create one per Apply.
// Usage: for each kept input row, append one value to every column(i), then EndRow(row).
// Its buffers are recycled per thread: a writer takes over the capacity of the last one its
// thread destroyed, so that a steady transform allocates (and page-faults) nothing per batch.
// Thread-compatible (one thread at a time); destroy it on the thread that created it.
class TransformWriter {
 public:
  // One ColumnBuffer per output column (e.g. OutputSchema(in.schema()).columns()).
  // `in` must outlive the writer.
  TransformWriter(const BatchView& in, std::span<const ColumnSpec> output);
  TransformWriter(TransformWriter&&) noexcept = default;
  TransformWriter& operator=(TransformWriter&&) noexcept = default;
  ~TransformWriter();

  [[nodiscard]] ColumnBuffer& column(std::size_t i) { return columns_[i]; }
  [[nodiscard]] std::size_t column_count() const { return columns_.size(); }
  // Appends row `row` of `from` (null or not) to column(i). REQUIRES: same type.
  void CopyValue(std::size_t i, const ColumnView& from, std::uint32_t row);
  // Appends rows `rows` of `from` to column(i), as CopyValue row by row would, with the type
  // resolved once: for a column passed through unchanged, appended after the rows are decided.
  // EndRow is still called once per row. REQUIRES: same type; each row < from's row count.
  void CopyRows(std::size_t i, const ColumnView& from, std::span<const std::uint32_t> rows);
  // Ends an output row that came from input row `row` (its line number is kept).
  void EndRow(std::uint32_t row);
  [[nodiscard]] std::uint32_t rows() const { return static_cast<std::uint32_t>(lines_.size()); }

  // An InputError for input row `row`: its line, and byte_offset = the batch's first_byte (a
  // batch does not record per-row offsets, so this is the lower bound the batch knows). `raw`
  // stays empty: the raw row text is gone once a row is parsed.
  [[nodiscard]] InputError Reject(std::uint32_t row, InputErrc reason, std::string column,
                                  std::string detail) const;

  // Upper bound of the bytes Finish needs.
  [[nodiscard]] std::size_t SizeBound() const;
  // Writes the batch into `out` with the input's BatchInfo. rows_rejected and rows_filtered
  // are passed through to the result. Errors: kBatchTooLarge, kInvalidArgument (a column
  // whose length differs from rows()).
  [[nodiscard]] StageResult<TransformOutput> Finish(std::span<std::byte> out,
                                                    std::uint32_t rows_rejected,
                                                    std::uint32_t rows_filtered) const;

 private:
  const BatchView* in_;
  std::vector<ColumnBuffer> columns_;
  std::vector<std::uint32_t> lines_;  // per output row: its line minus in.info().first_line
  bool lines_are_rows_ = true;        // lines_[i] == i so far: written as "no row_lines"
};

namespace detail {
class Step;  // a built-in's configuration, compiled per batch into row operations
}  // namespace detail

// Base of the built-in transforms. A built-in is a step that is compiled against the batch's
// schema into a single pass over its rows; TransformChain fuses consecutive built-ins into one
// pass (no intermediate batch). Immutable after construction: thread-safe, and Apply may run
// concurrently. Not for user subclassing (the constructor takes an internal type).
class BuiltinTransform : public Transform {
 public:
  [[nodiscard]] Schema OutputSchema(const Schema& input) const final;
  [[nodiscard]] StageResult<TransformOutput> Apply(const BatchView& in, std::span<std::byte> out,
                                                   InputErrors& rejected) const final;
  [[nodiscard]] StageResult<TransformOutput> ApplyFrom(const BatchView& in, std::uint32_t first_row,
                                                       std::span<std::byte> out,
                                                       InputErrors& rejected) const final;
  [[nodiscard]] const std::shared_ptr<const detail::Step>& step() const { return step_; }

 protected:
  explicit BuiltinTransform(std::shared_ptr<const detail::Step> step);

 private:
  std::shared_ptr<const detail::Step> step_;
};

// Keeps the listed columns, in the listed order. Throws std::invalid_argument on an empty list
// or a repeated name; OutputSchema throws on an unknown column.
class SelectTransform final : public BuiltinTransform {
 public:
  explicit SelectTransform(std::vector<std::string> columns);
};

// Renames columns (old name, new name); all renames apply at once, so {a→b, b→a} swaps.
// Throws on an empty list, an empty new name, a column renamed twice; OutputSchema throws on an
// unknown column or when two columns would share a name.
class RenameTransform final : public BuiltinTransform {
 public:
  struct Rename {
    std::string from;
    std::string to;
  };
  explicit RenameTransform(std::vector<Rename> renames);
  // So that RenameTransform({{"old", "new"}}) is not ambiguous with the copy constructor.
  explicit RenameTransform(std::initializer_list<Rename> renames)
      : RenameTransform(std::vector<Rename>(renames)) {}
};

// Converts columns to other types, never rounding. Supported, per value (nulls stay null):
//   string → any: the parsers' rules (stages/src/values.h); a value that does not parse, or
//     that the type would change (0.10000000000000001 for float64), rejects the row (InputErrc
//     of the target type, e.g. kBadInt64, detail = the quoted value and what it would lose);
//   any → string: int64 decimal, float64 its shortest decimal, bool "true"/"false", timestamp
//     ISO 8601 UTC ("2024-03-01T12:00:00Z"), date "2024-03-01", datetime
//     "2024-03-01T12:00:00" (detail::FormatTemporal);
//   int64 → float64 and float64 → int64 when the number stays the same as written
//     (9007199254740993 is no float64: kBadFloat64; 10.5 or 1e19 no int64: kBadInt64);
//   bool ↔ int64/float64 as 1/0 (a number other than 0 or 1 → kBadBool);
//   int64 ↔ timestamp as microseconds since the Unix epoch, int64 ↔ datetime as microseconds
//     since 1970-01-01T00:00:00, int64 ↔ date as days since 1970-01-01 (years 0000-9999, else
//     kBadTimestamp, kBadDateTime, kBadDate);
//   date → datetime, timestamp: its midnight (UTC for a timestamp); datetime ↔ timestamp: the
//     local time taken as UTC, an instant's UTC wall time; datetime, timestamp → date only at
//     midnight (UTC), else kBadDate ("a time of day: a date holds days").
// float64 and bool ↔ date, datetime, timestamp are refused at configuration.
// Throws on an empty list or a column listed twice; OutputSchema throws on an unknown column
// or an unsupported conversion.
class CastTransform final : public BuiltinTransform {
 public:
  explicit CastTransform(std::vector<ColumnSpec> casts);
};

// Keeps the rows for which a boolean expression holds; drops the others (rows_filtered).
// Grammar (keywords case-insensitive; precedence not > and > or):
//   expr := or;  or := and ("or" and)*;  and := unary ("and" unary)*;
//   unary := "not" unary | "(" expr ")" | column op literal | literal op column
//   op := == != < <= > >=;  column := name | `any name`
//   literal := number | 'string' | "string" (backslash escapes) | true | false | null
//              | an unquoted ISO 8601 date or time (2012-01-01, 2012-01-01T10:00:00Z), a string
// Literals are checked against the column's type by OutputSchema: numbers for int64/float64,
// true/false for bool (== and != only), strings for string (bytewise order), for a date,
// datetime or timestamp a string of its own ISO 8601 form ('2024-01-01',
// '2024-01-01T09:30:00', '2024-01-01T09:30:00+02:00'); null with == and != only, on any column.
// Two-valued logic: a comparison with a null value is false, except `== null` / `!= null`, so
// `not amount > 5` keeps rows where amount is null. The constructor throws
// std::invalid_argument naming the 1-based position of a syntax error.
class FilterTransform final : public BuiltinTransform {
 public:
  explicit FilterTransform(std::string_view expression);
};

inline constexpr std::size_t kHashKeySize = 32;

// Keyed pseudonymization: each listed column becomes a string column holding the lowercase hex
// HMAC-SHA-256(key, value), 64 characters; nulls stay null. A non-string value is hashed as its
// text form (the one CastTransform produces: 42 → "42"). The transform keeps SHA-256 states
// derived from the key (wiped when it is destroyed); the caller keeps, and wipes, its own copy.
// Throws on an empty list or a column listed twice; OutputSchema throws on an unknown column.
class HashTransform final : public BuiltinTransform {
 public:
  HashTransform(std::vector<std::string> columns, std::span<const std::byte, kHashKeySize> key);
};

// Masks string columns: every UTF-8 code point becomes '*' except the last keep_last ones
// ("4111111111111111" keep_last=4 → "************1111"); nulls stay null. Values with no more
// than keep_last code points are unchanged. OutputSchema throws for a non-string column.
class MaskTransform final : public BuiltinTransform {
 public:
  struct Column {
    std::string name;
    std::uint32_t keep_last = 0;
  };
  explicit MaskTransform(std::vector<Column> columns);
};

// Applies transforms in order, as one Transform (one pipeline stage). Consecutive built-ins are
// fused into a single pass over the rows, so a chain of built-ins writes no intermediate batch;
// around a user transform the chain writes the batch before it into a scratch buffer of its
// own (sized from the exact bound) and, after it, continues from the batch it wrote (scratch
// sized max(out, 2 × input) and doubled on kBatchTooLarge, up to 3 retries). The result is
// the same as applying the transforms one by one, except that rejected rows are reported in
// row order within each fused run. Rows rejected or filtered by any member add up in the
// output counts. An empty chain copies its input.
// Owns its transforms; immutable after construction, thread-safe like its members.
class TransformChain final : public Transform {
 public:
  explicit TransformChain(std::vector<std::unique_ptr<Transform>> transforms);
  ~TransformChain() override;

  [[nodiscard]] Schema OutputSchema(const Schema& input) const override;
  [[nodiscard]] StageResult<TransformOutput> Apply(const BatchView& in, std::span<std::byte> out,
                                                   InputErrors& rejected) const override;
  // A chain of built-ins only fills the block row by row, as one built-in does; a chain with a
  // transform of yours takes the default (Transform::ApplyFrom).
  [[nodiscard]] StageResult<TransformOutput> ApplyFrom(const BatchView& in, std::uint32_t first_row,
                                                       std::span<std::byte> out,
                                                       InputErrors& rejected) const override;

 private:
  struct Segment;  // a run of fused built-ins, or one user transform
  std::vector<std::unique_ptr<Transform>> transforms_;
  std::vector<Segment> segments_;
};

}  // namespace zcpipe::stages
