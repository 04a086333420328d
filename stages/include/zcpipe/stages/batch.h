// Record batches: columnar FlatBuffers (record_batch.fbs) written into arena blocks and read in
// place. ColumnBuffer assembles one column in private memory; WriteBatch builds the FlatBuffer
// directly inside an arena block; BatchView reads one without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/stages/error.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::fb {
struct RecordBatch;
struct Column;
}  // namespace zcpipe::fb

namespace zcpipe::stages {

// Where a batch's rows came from.
struct BatchInfo {
  std::uint64_t chunk_index = 0;
  std::uint64_t first_line = 1;  // 1-based
  std::uint64_t first_byte = 0;
};

// One column under construction, in process-private memory. Reused across chunks: Clear()
// keeps the capacity, so a warmed-up parser allocates nothing per field or per row.
// Thread-compatible (one thread at a time).
class ColumnBuffer {
 public:
  ColumnBuffer(std::string name, ColumnType type);

  // REQUIRES: the Append matches type() (int64 also for kTimestamp, kDate, kDateTime). Inline:
  // parsers and transforms call them once per value.
  void AppendNull();
  void AppendInt64(std::int64_t value) {
    AppendValid(true);
    ints_.push_back(value);
  }
  void AppendFloat64(double value) {
    AppendValid(true);
    floats_.push_back(value);
  }
  void AppendBool(bool value) {
    AppendValid(true);
    bools_.push_back(value ? 1 : 0);
  }
  void AppendString(std::string_view value) {
    AppendStringPart(value);
    EndString();
  }
  // A string built in pieces (e.g. while unescaping): any number of parts, then EndString().
  void AppendStringPart(std::string_view part) {
    bytes_.insert(bytes_.end(), part.begin(), part.end());
  }
  void EndString() {
    AppendValid(true);
    offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
  }
  // Removes the last row (a row that turned out to be bad after some of its fields were added).
  void PopBack();
  void Clear();
  // Clear() and become a column of another name and type, keeping the capacity.
  void Reset(std::string name, ColumnType type);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] ColumnType type() const { return type_; }
  [[nodiscard]] std::size_t size() const { return valid_.size(); }
  [[nodiscard]] bool has_nulls() const { return null_count_ != 0; }
  // Bytes this column adds to a batch, padding and table overhead included (an upper bound).
  [[nodiscard]] std::size_t EncodedSizeBound() const;

 private:
  friend StageResult<std::span<std::byte>> WriteBatch(std::span<std::byte>, const BatchInfo&,
                                                      std::span<const ColumnBuffer>,
                                                      std::span<const std::uint32_t>);
  void AppendValid(bool valid) {
    valid_.push_back(valid ? 1 : 0);
    null_count_ += valid ? 0 : 1;
  }

  std::string name_;
  ColumnType type_;
  std::vector<std::uint8_t> valid_;  // one byte per row; packed into a bitmap when written
  std::size_t null_count_ = 0;
  std::vector<std::int64_t> ints_;
  std::vector<double> floats_;
  std::vector<std::uint8_t> bools_;
  std::vector<std::uint32_t> offsets_{0};
  std::vector<char> bytes_;
};

// Builds a RecordBatch FlatBuffer directly into `block` (typically an arena block) and returns
// the bytes it occupies, a suffix of `block` (FlatBuffers builds back to front); no other
// buffer is involved. `row_lines[i]` is row i's line minus info.first_line (may be empty).
// The batch ends at the last 8-byte-aligned address in `block` (FlatBuffers aligns from the end).
// REQUIRES: every column has the same number of rows, and row_lines is empty or that long.
// Errors: kBatchTooLarge (nothing usable was written), kInvalidArgument.
[[nodiscard]] StageResult<std::span<std::byte>> WriteBatch(
    std::span<std::byte> block, const BatchInfo& info, std::span<const ColumnBuffer> columns,
    std::span<const std::uint32_t> row_lines);

// Upper bound of the bytes WriteBatch needs for these columns (to size or split chunks).
[[nodiscard]] std::size_t BatchSizeBound(std::span<const ColumnBuffer> columns,
                                         std::size_t row_count);
// What one value of `type` (`size` bytes of text, for a string) adds at most to BatchSizeBound;
// a row adds kRowSizeBound more (its row_lines entry). For a parser or a transform that fills
// a block row by row.
[[nodiscard]] constexpr std::size_t ValueSizeBound(ColumnType type, std::size_t size) {
  constexpr std::size_t kValidityByte = 1;
  switch (type) {
    case ColumnType::kBool:
      return 1 + kValidityByte;
    case ColumnType::kString:
      return 4 + size + kValidityByte;
    default:
      return 8 + kValidityByte;
  }
}
inline constexpr std::size_t kRowSizeBound = 4;
// The bytes of `block` WriteBatch can use (it ends the batch on an 8-byte-aligned address):
// a batch fits when its BatchSizeBound is at most this.
[[nodiscard]] std::size_t WritableBatchBytes(std::span<const std::byte> block);

namespace detail {
// Element i of a little-endian vector of T at `data`, which need not be aligned for T (a batch
// is only required to start 4-byte aligned); compiles to one load.
template <class T>
[[nodiscard]] T LoadElement(const std::byte* data, std::size_t i) {
  T value;
  std::memcpy(&value, data + i * sizeof(T), sizeof(T));
  return value;
}
}  // namespace detail

// Read access to one column of a BatchView. Cheap to copy; valid while the batch bytes are.
// The accessors are inline reads of the column's vectors, located once when the view is made:
// the per-value cost of a transform or an export is the value, not a FlatBuffers table lookup.
class ColumnView {
 public:
  [[nodiscard]] std::string_view name() const { return name_; }
  [[nodiscard]] ColumnType type() const { return type_; }
  [[nodiscard]] bool is_null(std::uint32_t row) const {
    return validity_ != nullptr && ((validity_[row / 8] >> (row % 8)) & 1) == 0;
  }
  // REQUIRES: row < row_count and the accessor matches type() (int64 also for kTimestamp, kDate,
  // kDateTime).
  [[nodiscard]] std::int64_t int64(std::uint32_t row) const {
    return detail::LoadElement<std::int64_t>(ints_, row);
  }
  [[nodiscard]] double float64(std::uint32_t row) const {
    return detail::LoadElement<double>(floats_, row);
  }
  [[nodiscard]] bool boolean(std::uint32_t row) const { return bools_[row] != 0; }
  [[nodiscard]] std::string_view string(std::uint32_t row) const {
    const auto begin = detail::LoadElement<std::uint32_t>(string_offsets_, row);
    return {string_bytes_ + begin,
            detail::LoadElement<std::uint32_t>(string_offsets_, row + 1) - begin};
  }

 private:
  friend class BatchView;
  explicit ColumnView(const fb::Column& column);

  std::string_view name_;
  ColumnType type_;
  // Into the batch bytes; null when the column has no such vector (validity: no null).
  const std::uint8_t* validity_ = nullptr;
  const std::byte* ints_ = nullptr;
  const std::byte* floats_ = nullptr;
  const std::uint8_t* bools_ = nullptr;
  const std::byte* string_offsets_ = nullptr;
  const char* string_bytes_ = nullptr;
};

// A verified RecordBatch, read in place. Open() runs the FlatBuffers Verifier and checks what
// it cannot (vector lengths against row_count, string offsets), so every accessor is safe for
// any input bytes that Open accepted. Does not own the bytes. Thread-safe for reads.
class BatchView {
 public:
  // Errors: kMalformedBatch, with what is wrong in the message (also for bytes that do not
  // start 4-byte aligned: FlatBuffers reads its offsets in place).
  [[nodiscard]] static StageResult<BatchView> Open(std::span<const std::byte> bytes);

  [[nodiscard]] const BatchInfo& info() const { return info_; }
  [[nodiscard]] std::uint32_t row_count() const;
  [[nodiscard]] std::size_t column_count() const;
  [[nodiscard]] ColumnView column(std::size_t i) const;
  [[nodiscard]] Schema schema() const;
  // The 1-based input line row `row` started on.
  [[nodiscard]] std::uint64_t row_line(std::uint32_t row) const {
    return info_.first_line +
           (row_lines_ == nullptr ? row : detail::LoadElement<std::uint32_t>(row_lines_, row));
  }
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }

 private:
  BatchView(std::span<const std::byte> bytes, const fb::RecordBatch* batch);

  std::span<const std::byte> bytes_;
  const fb::RecordBatch* batch_;
  BatchInfo info_;
  const std::byte* row_lines_;  // into the batch bytes; null: row i is on line first_line + i
};

}  // namespace zcpipe::stages
