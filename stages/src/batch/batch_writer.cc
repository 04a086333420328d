#include <cassert>
#include <cstring>
#include <stdexcept>

#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/record_batch_generated.h"

namespace zcpipe::stages {

ColumnBuffer::ColumnBuffer(std::string name, ColumnType type)
    : name_(std::move(name)), type_(type) {}

void ColumnBuffer::AppendNull() {
  AppendValid(false);
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      ints_.push_back(0);
      break;
    case ColumnType::kFloat64:
      floats_.push_back(0);
      break;
    case ColumnType::kBool:
      bools_.push_back(0);
      break;
    case ColumnType::kString:
      offsets_.push_back(offsets_.back());
      break;
  }
}

void ColumnBuffer::PopBack() {
  if (valid_.empty()) return;
  null_count_ -= valid_.back() != 0 ? 0 : 1;
  valid_.pop_back();
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      ints_.pop_back();
      break;
    case ColumnType::kFloat64:
      floats_.pop_back();
      break;
    case ColumnType::kBool:
      bools_.pop_back();
      break;
    case ColumnType::kString:
      offsets_.pop_back();
      bytes_.resize(offsets_.back());
      break;
  }
}

void ColumnBuffer::Clear() {
  valid_.clear();
  null_count_ = 0;
  ints_.clear();
  floats_.clear();
  bools_.clear();
  offsets_.assign(1, 0);
  bytes_.clear();
}

void ColumnBuffer::Reset(std::string name, ColumnType type) {
  Clear();
  name_ = std::move(name);
  type_ = type;
}

namespace {

// Every FlatBuffers vector costs a 4-byte length and up to 8 bytes of alignment padding; a
// table costs its vtable and fields, under 96 bytes for a Column.
constexpr std::size_t kVectorOverhead = 16;
constexpr std::size_t kTableOverhead = 96;

std::size_t VectorBound(std::size_t bytes) { return bytes + kVectorOverhead; }

// Lets a FlatBufferBuilder build inside one arena block. The builder asks once for the whole
// block; a request to grow means the size bound was wrong, and is refused.
class BlockAllocator final : public flatbuffers::Allocator {
 public:
  struct Full {};
  explicit BlockAllocator(std::span<std::byte> block) : block_(block) {}
  std::uint8_t* allocate(std::size_t size) override {
    if (size > block_.size()) throw Full{};
    return reinterpret_cast<std::uint8_t*>(block_.data());
  }
  void deallocate(std::uint8_t*, std::size_t) override {}
  std::uint8_t* reallocate_downward(std::uint8_t*, std::size_t, std::size_t, std::size_t,
                                    std::size_t) override {
    throw Full{};
  }

 private:
  std::span<std::byte> block_;
};

template <class T>
flatbuffers::Offset<flatbuffers::Vector<T>> Vector(flatbuffers::FlatBufferBuilder& builder,
                                                   const std::vector<T>& values) {
  return builder.CreateVector(values.data(), values.size());
}

flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> Bitmap(
    flatbuffers::FlatBufferBuilder& builder, const std::vector<std::uint8_t>& valid) {
  std::uint8_t* bits = nullptr;
  const auto offset = builder.CreateUninitializedVector((valid.size() + 7) / 8, &bits);
  std::memset(bits, 0, (valid.size() + 7) / 8);
  for (std::size_t i = 0; i < valid.size(); ++i) {
    bits[i / 8] |= static_cast<std::uint8_t>(valid[i] << (i % 8));
  }
  return offset;
}

// FlatBuffers aligns from the end of its buffer: the largest part of `block` that ends on an
// 8-byte-aligned address and is a multiple of 8 bytes long.
template <class Byte>
std::span<Byte> WritablePart(std::span<Byte> block) {
  const auto end =
      reinterpret_cast<std::uintptr_t>(block.data() + block.size()) & ~std::uintptr_t{7};
  const auto begin = reinterpret_cast<std::uintptr_t>(block.data());
  const std::size_t usable = end < begin ? 0 : (end - begin) & ~std::size_t{7};
  return block.subspan(end - usable - begin, usable);
}

}  // namespace

std::size_t WritableBatchBytes(std::span<const std::byte> block) {
  return WritablePart(block).size();
}

std::size_t ColumnBuffer::EncodedSizeBound() const {
  std::size_t bound = kTableOverhead + VectorBound(name_.size() + 1);
  if (null_count_ != 0) bound += VectorBound((size() + 7) / 8);
  bound +=
      VectorBound(ints_.size() * 8) + VectorBound(floats_.size() * 8) + VectorBound(bools_.size());
  if (type_ == ColumnType::kString) {
    bound += VectorBound(offsets_.size() * 4) + VectorBound(bytes_.size());
  }
  return bound;
}

std::size_t BatchSizeBound(std::span<const ColumnBuffer> columns, std::size_t row_count) {
  std::size_t bound = kTableOverhead + VectorBound(row_count * 4) +
                      VectorBound(columns.size() * 4) + 16;  // root offset, identifier
  for (const auto& column : columns) bound += column.EncodedSizeBound();
  return bound;
}

StageResult<std::span<std::byte>> WriteBatch(std::span<std::byte> block, const BatchInfo& info,
                                             std::span<const ColumnBuffer> columns,
                                             std::span<const std::uint32_t> row_lines) {
  const std::size_t rows = columns.empty() ? row_lines.size() : columns.front().size();
  for (const auto& column : columns) {
    if (column.size() != rows) {
      return StageFail(StageErrc::kInvalidArgument, "column '" + column.name() + "' has " +
                                                        std::to_string(column.size()) +
                                                        " rows, expected " + std::to_string(rows));
    }
  }
  if (!row_lines.empty() && row_lines.size() != rows) {
    return StageFail(StageErrc::kInvalidArgument, "row_lines does not match the row count");
  }
  const std::size_t bound = BatchSizeBound(columns, rows);
  block = WritablePart(block);
  const std::size_t usable = block.size();
  if (bound > usable) {
    return tl::unexpected(StageError{StageErrc::kBatchTooLarge,
                                     "batch needs up to " + std::to_string(bound) +
                                         " bytes, the block has " + std::to_string(block.size()),
                                     bound});
  }
  BlockAllocator allocator(block);
  try {
    flatbuffers::FlatBufferBuilder builder(usable, &allocator, false, 8);
    std::vector<flatbuffers::Offset<fb::Column>> column_offsets;
    column_offsets.reserve(columns.size());
    for (const auto& column : columns) {
      const auto name = builder.CreateString(column.name_);
      const auto validity = column.has_nulls() ? Bitmap(builder, column.valid_) : 0;
      flatbuffers::Offset<flatbuffers::Vector<std::int64_t>> ints;
      flatbuffers::Offset<flatbuffers::Vector<double>> floats;
      flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> bools;
      flatbuffers::Offset<flatbuffers::Vector<std::uint32_t>> offsets;
      flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> bytes;
      switch (column.type()) {
        case ColumnType::kInt64:
        case ColumnType::kTimestamp:
        case ColumnType::kDate:
        case ColumnType::kDateTime:
          ints = Vector(builder, column.ints_);
          break;
        case ColumnType::kFloat64:
          floats = Vector(builder, column.floats_);
          break;
        case ColumnType::kBool:
          bools = Vector(builder, column.bools_);
          break;
        case ColumnType::kString:
          offsets = Vector(builder, column.offsets_);
          bytes = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(column.bytes_.data()),
                                       column.bytes_.size());
          break;
      }
      column_offsets.push_back(fb::CreateColumn(builder, name,
                                                static_cast<fb::ColumnType>(column.type()),
                                                validity, ints, floats, bools, offsets, bytes));
    }
    const auto lines = row_lines.empty() ? 0 : builder.CreateVector(row_lines.data(), rows);
    const auto column_vector = builder.CreateVector(column_offsets);
    const auto root =
        fb::CreateRecordBatch(builder, info.chunk_index, info.first_line, info.first_byte,
                              static_cast<std::uint32_t>(rows), lines, column_vector);
    fb::FinishRecordBatchBuffer(builder, root);
    assert(builder.GetSize() <= bound);
    return block.subspan(usable - builder.GetSize(), builder.GetSize());
  } catch (const BlockAllocator::Full&) {
    return StageFail(StageErrc::kBatchTooLarge, "batch outgrew its size bound");
  }
}

}  // namespace zcpipe::stages
