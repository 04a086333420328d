#include <cstddef>
#include <vector>

#include "transform/transform_value.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {

namespace {

// What the last TransformWriter destroyed on this thread leaves to the next. A fresh vector of
// a few MiB is fresh memory from the kernel, a page fault per 4 KiB, on every batch.
struct Spares {
  std::vector<ColumnBuffer> columns;
  std::vector<std::uint32_t> lines;
};
thread_local Spares spares;

// For each of `rows`: a null where `from` has one, else append(row).
template <class Append>
void AppendEach(ColumnBuffer& to, const ColumnView& from, std::span<const std::uint32_t> rows,
                Append append) {
  for (const std::uint32_t row : rows) {
    if (from.is_null(row)) {
      to.AppendNull();
    } else {
      append(row);
    }
  }
}

}  // namespace

TransformWriter::TransformWriter(const BatchView& in, std::span<const ColumnSpec> output)
    : in_(&in), columns_(std::move(spares.columns)), lines_(std::move(spares.lines)) {
  if (columns_.size() > output.size()) {
    columns_.erase(columns_.begin() + static_cast<std::ptrdiff_t>(output.size()), columns_.end());
  }
  for (std::size_t i = 0; i < output.size(); ++i) {
    if (i < columns_.size()) {
      columns_[i].Reset(output[i].name, output[i].type);
    } else {
      columns_.emplace_back(output[i].name, output[i].type);
    }
  }
  lines_.clear();
}

TransformWriter::~TransformWriter() {
  // Keep the larger set: a chain's writers may be alive at once on one thread.
  if (columns_.size() >= spares.columns.size()) spares.columns = std::move(columns_);
  if (lines_.capacity() >= spares.lines.capacity()) spares.lines = std::move(lines_);
}

void TransformWriter::CopyValue(std::size_t i, const ColumnView& from, std::uint32_t row) {
  detail::Value value;
  detail::ReadValue(from, columns_[i].type(), row, value);
  detail::AppendValue(columns_[i], columns_[i].type(), value);
}

void TransformWriter::CopyRows(std::size_t i, const ColumnView& from,
                               std::span<const std::uint32_t> rows) {
  ColumnBuffer& to = columns_[i];
  switch (to.type()) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      AppendEach(to, from, rows, [&](std::uint32_t row) { to.AppendInt64(from.int64(row)); });
      break;
    case ColumnType::kFloat64:
      AppendEach(to, from, rows, [&](std::uint32_t row) { to.AppendFloat64(from.float64(row)); });
      break;
    case ColumnType::kBool:
      AppendEach(to, from, rows, [&](std::uint32_t row) { to.AppendBool(from.boolean(row)); });
      break;
    case ColumnType::kString:
      AppendEach(to, from, rows, [&](std::uint32_t row) { to.AppendString(from.string(row)); });
      break;
  }
}

void TransformWriter::EndRow(std::uint32_t row) {
  const auto line = static_cast<std::uint32_t>(in_->row_line(row) - in_->info().first_line);
  lines_are_rows_ = lines_are_rows_ && line == lines_.size();
  lines_.push_back(line);
}

InputError TransformWriter::Reject(std::uint32_t row, InputErrc reason, std::string column,
                                   std::string detail) const {
  InputError error{.reason = reason,
                   .line = in_->row_line(row),
                   .byte_offset = in_->info().first_byte,
                   .column = std::move(column),
                   .detail = std::move(detail),
                   .raw = {}};
  return error;
}

std::size_t TransformWriter::SizeBound() const {
  return BatchSizeBound(columns_, lines_.size());  // row_lines included
}

StageResult<TransformOutput> TransformWriter::Finish(std::span<std::byte> out,
                                                     std::uint32_t rows_rejected,
                                                     std::uint32_t rows_filtered) const {
  // Rows on consecutive lines need no row_lines vector (BatchView then uses first_line + row),
  // unless there is no column to carry the row count.
  const bool omit_lines = lines_are_rows_ && !columns_.empty();
  const std::span<const std::uint32_t> lines =
      omit_lines ? std::span<const std::uint32_t>() : std::span(lines_);
  if (omit_lines) {
    for (const auto& column : columns_) {
      if (column.size() != lines_.size()) {
        return StageFail(StageErrc::kInvalidArgument, "column '" + column.name() + "' has " +
                                                          std::to_string(column.size()) +
                                                          " rows, EndRow was called " +
                                                          std::to_string(lines_.size()) + " times");
      }
    }
  }
  auto batch = WriteBatch(out, in_->info(), columns_, lines);
  if (!batch) return tl::unexpected(std::move(batch.error()));
  return TransformOutput{.batch = *batch,
                         .rows_out = rows(),
                         .rows_rejected = rows_rejected,
                         .rows_filtered = rows_filtered};
}

}  // namespace zcpipe::stages
