#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/record_batch_generated.h"

namespace zcpipe::stages {
namespace {

// Checks what the Verifier cannot: that each column's vectors fit its type and the row count.
std::string CheckColumn(const fb::Column& column, std::uint32_t rows) {
  const auto type = static_cast<std::uint8_t>(column.type());
  if (type > static_cast<std::uint8_t>(ColumnType::kTimestamp)) return "unknown column type";
  if (column.validity() != nullptr && column.validity()->size() != (std::size_t{rows} + 7) / 8) {
    return "validity bitmap length";
  }
  auto length_is = [rows](const auto* vector) {
    return vector != nullptr && vector->size() == rows;
  };
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      return length_is(column.ints()) ? "" : "int vector length";
    case ColumnType::kFloat64:
      return length_is(column.floats()) ? "" : "float vector length";
    case ColumnType::kBool:
      return length_is(column.bools()) ? "" : "bool vector length";
    case ColumnType::kString: {
      const auto* offsets = column.string_offsets();
      const auto* bytes = column.string_bytes();
      if (offsets == nullptr || bytes == nullptr || offsets->size() != std::size_t{rows} + 1) {
        return "string vectors";
      }
      std::uint32_t previous = 0;
      for (const std::uint32_t offset : *offsets) {
        if (offset < previous || offset > bytes->size()) return "string offsets";
        previous = offset;
      }
      return "";
    }
  }
  return "unknown column type";
}

}  // namespace

StageResult<BatchView> BatchView::Open(std::span<const std::byte> bytes) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!fb::VerifyRecordBatchBuffer(verifier)) {
    return StageFail(StageErrc::kMalformedBatch, "not a valid record batch (FlatBuffers verifier)");
  }
  const auto* batch = fb::GetRecordBatch(data);
  const std::uint32_t rows = batch->row_count();
  if (batch->row_lines() != nullptr && batch->row_lines()->size() != rows) {
    return StageFail(StageErrc::kMalformedBatch, "row_lines length differs from row_count");
  }
  for (const auto* column : *batch->columns()) {
    if (auto problem = CheckColumn(*column, rows); !problem.empty()) {
      return StageFail(StageErrc::kMalformedBatch,
                       "column '" + column->name()->str() + "': bad " + problem);
    }
  }
  return BatchView(bytes, batch);
}

BatchInfo BatchView::info() const {
  return {batch_->chunk_index(), batch_->first_line(), batch_->first_byte()};
}
std::uint32_t BatchView::row_count() const { return batch_->row_count(); }
std::size_t BatchView::column_count() const { return batch_->columns()->size(); }
ColumnView BatchView::column(std::size_t i) const {
  return ColumnView(batch_->columns()->Get(static_cast<flatbuffers::uoffset_t>(i)));
}
Schema BatchView::schema() const {
  std::vector<ColumnSpec> columns;
  for (std::size_t i = 0; i < column_count(); ++i) {
    columns.push_back({std::string(column(i).name()), column(i).type()});
  }
  return Schema(std::move(columns));
}
std::uint64_t BatchView::row_line(std::uint32_t row) const {
  const auto* lines = batch_->row_lines();
  return batch_->first_line() + (lines == nullptr ? row : lines->Get(row));
}

std::string_view ColumnView::name() const { return column_->name()->string_view(); }
ColumnType ColumnView::type() const { return static_cast<ColumnType>(column_->type()); }
bool ColumnView::is_null(std::uint32_t row) const {
  const auto* validity = column_->validity();
  return validity != nullptr && ((validity->Get(row / 8) >> (row % 8)) & 1) == 0;
}
std::int64_t ColumnView::int64(std::uint32_t row) const { return column_->ints()->Get(row); }
double ColumnView::float64(std::uint32_t row) const { return column_->floats()->Get(row); }
bool ColumnView::boolean(std::uint32_t row) const { return column_->bools()->Get(row) != 0; }
std::string_view ColumnView::string(std::uint32_t row) const {
  const auto* offsets = column_->string_offsets();
  const std::uint32_t begin = offsets->Get(row);
  return {reinterpret_cast<const char*>(column_->string_bytes()->data()) + begin,
          offsets->Get(row + 1) - begin};
}

}  // namespace zcpipe::stages
