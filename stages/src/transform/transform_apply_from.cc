// Transform::ApplyFrom's default: a transform of the user's, whose output may not fit one
// block, applied to as many rows as fit, by trying fewer rows (a copy of them) until it fits.
#include <algorithm>
#include <stdexcept>

#include "transform/transform_plan.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {
namespace {

// Rows [first, first + count) of `in` as a batch of their own in `scratch`, with in.info() and
// each row's line: what the transform sees instead of `in`.
StageResult<BatchView> Slice(const BatchView& in, std::uint32_t first, std::uint32_t count,
                             detail::Scratch& scratch) {
  const auto columns = detail::InputColumns(in);
  TransformWriter writer(in, columns);
  std::vector<std::uint32_t> rows(count);
  for (std::uint32_t i = 0; i < count; ++i) rows[i] = first + i;
  for (std::size_t c = 0; c < columns.size(); ++c) writer.CopyRows(c, in.column(c), rows);
  for (const std::uint32_t row : rows) writer.EndRow(row);
  auto written = writer.Finish(scratch.Get(writer.SizeBound() + 8), 0, 0);
  if (!written) return tl::unexpected(std::move(written.error()));
  return BatchView::Open(written->batch);
}

// Fewer rows than `count`, sized from what the last attempt needed against what the block
// holds (`needed` 0: unknown, half as many).
std::uint32_t Fewer(std::uint32_t count, std::size_t needed, std::size_t room) {
  double fewer = count / 2.0;
  if (needed > room) fewer = 0.9 * count * static_cast<double>(room) / static_cast<double>(needed);
  return std::clamp<std::uint32_t>(static_cast<std::uint32_t>(fewer), 1, count - 1);
}

// Row `row` alone does not fit `out`: rejected, and an empty batch written in its place.
StageResult<TransformOutput> RejectAlone(const Transform& transform, const BatchView& in,
                                         std::uint32_t row, std::span<std::byte> out,
                                         InputErrors& rejected) {
  std::vector<ColumnSpec> columns;
  try {
    columns = transform.OutputSchema(in.schema()).columns();
  } catch (const std::invalid_argument& e) {
    return StageFail(StageErrc::kSchemaMismatch, e.what());
  }
  TransformWriter writer(in, columns);
  auto empty = writer.Finish(out, 1, 0);
  if (!empty) return empty;
  rejected.push_back(writer.Reject(
      row, InputErrc::kRecordTooLarge, {},
      "the row's output does not fit a block of " + std::to_string(out.size()) + " bytes"));
  return empty;
}

}  // namespace

StageResult<TransformOutput> Transform::ApplyFrom(const BatchView& in, std::uint32_t first_row,
                                                  std::span<std::byte> out,
                                                  InputErrors& rejected) const {
  const std::uint32_t rows = in.row_count();
  if (first_row > rows || (first_row == rows && rows != 0)) {
    return StageFail(StageErrc::kInvalidArgument,
                     "ApplyFrom: no row left from row " + std::to_string(first_row));
  }
  std::uint32_t count = rows - first_row;
  const std::size_t room = WritableBatchBytes(out);
  std::size_t needed = 0;
  if (first_row == 0) {  // the whole batch first: no copy when it fits
    auto whole = Apply(in, out, rejected);
    if (whole || whole.error().code != StageErrc::kBatchTooLarge || rows == 0) return whole;
    if (rows == 1) return RejectAlone(*this, in, 0, out, rejected);
    needed = whole.error().needed;
    count = Fewer(count, needed, room);
  }
  detail::Scratch scratch;
  for (;;) {
    auto slice = Slice(in, first_row, count, scratch);
    if (!slice) return tl::unexpected(std::move(slice.error()));
    const std::size_t mark = rejected.size();
    auto part = Apply(*slice, out, rejected);
    if (part &&
        std::uint64_t{part->rows_out} + part->rows_rejected + part->rows_filtered != count) {
      rejected.erase(rejected.begin() + static_cast<std::ptrdiff_t>(mark), rejected.end());
      return StageFail(StageErrc::kInvalidArgument,
                       "rows in != rows out + rows rejected + rows filtered");
    }
    if (part || part.error().code != StageErrc::kBatchTooLarge) return part;
    if (count == 1) return RejectAlone(*this, in, first_row, out, rejected);
    count = Fewer(count, part.error().needed, room);
  }
}

}  // namespace zcpipe::stages
