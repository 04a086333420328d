#include "zcpipe/stages/batch.h"

#include <bit>

#include "zcpipe/stages/record_batch_generated.h"

namespace zcpipe::stages {
namespace {

// Checks what the Verifier cannot: that each column's vectors fit its type and the row count.
std::string CheckColumn(const fb::Column& column, std::uint32_t rows) {
  const auto type = static_cast<std::uint8_t>(column.type());
  if (type > static_cast<std::uint8_t>(ColumnType::kDateTime)) return "unknown column type";
  if (column.validity() != nullptr && column.validity()->size() != (std::size_t{rows} + 7) / 8) {
    return "validity bitmap length";
  }
  auto length_is = [rows](const auto* vector) {
    return vector != nullptr && vector->size() == rows;
  };
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
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

// Where a vector's elements start.
template <class T>
const std::byte* Bytes(const flatbuffers::Vector<T>& vector) {
  return reinterpret_cast<const std::byte*>(vector.Data());
}

}  // namespace

StageResult<BatchView> BatchView::Open(std::span<const std::byte> bytes) {
  // FlatBuffers (its Verifier too) reads offsets and lengths in place as 4-byte words; 8-byte
  // values ColumnView loads with memcpy, so 4 is all the start needs.
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint32_t) != 0) {
    return StageFail(StageErrc::kMalformedBatch, "not a record batch: not 4-byte aligned");
  }
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

BatchView::BatchView(std::span<const std::byte> bytes, const fb::RecordBatch* batch)
    : bytes_(bytes),
      batch_(batch),
      info_{batch->chunk_index(), batch->first_line(), batch->first_byte()},
      row_lines_(batch->row_lines() == nullptr ? nullptr : Bytes(*batch->row_lines())) {}

std::uint32_t BatchView::row_count() const { return batch_->row_count(); }
std::size_t BatchView::column_count() const { return batch_->columns()->size(); }
ColumnView BatchView::column(std::size_t i) const {
  return ColumnView(*batch_->columns()->Get(static_cast<flatbuffers::uoffset_t>(i)));
}
Schema BatchView::schema() const {
  std::vector<ColumnSpec> columns;
  for (std::size_t i = 0; i < column_count(); ++i) {
    columns.push_back({std::string(column(i).name()), column(i).type()});
  }
  return Schema(std::move(columns));
}
// Vectors are read in place, as FlatBuffers' own accessors read them on a little-endian host.
static_assert(std::endian::native == std::endian::little,
              "ColumnView reads FlatBuffers vectors in place");

ColumnView::ColumnView(const fb::Column& column)
    : name_(column.name()->string_view()), type_(static_cast<ColumnType>(column.type())) {
  if (const auto* v = column.validity()) validity_ = v->data();
  if (const auto* v = column.ints()) ints_ = Bytes(*v);
  if (const auto* v = column.floats()) floats_ = Bytes(*v);
  if (const auto* v = column.bools()) bools_ = v->data();
  if (const auto* v = column.string_offsets()) string_offsets_ = Bytes(*v);
  if (const auto* v = column.string_bytes())
    string_bytes_ = reinterpret_cast<const char*>(v->data());
}

}  // namespace zcpipe::stages
