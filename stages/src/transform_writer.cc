#include "transform_value.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {

TransformWriter::TransformWriter(const BatchView& in, std::span<const ColumnSpec> output)
    : in_(&in) {
  columns_.reserve(output.size());
  for (const auto& spec : output) columns_.emplace_back(spec.name, spec.type);
}

void TransformWriter::CopyValue(std::size_t i, const ColumnView& from, std::uint32_t row) {
  detail::AppendValue(columns_[i], columns_[i].type(),
                      detail::ReadValue(from, columns_[i].type(), row));
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
