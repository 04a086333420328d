#include "zcpipe/stages/batch.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "block.h"

#include "read_all.h"

namespace zcpipe::stages {
namespace {

using testing::Block;

std::vector<ColumnBuffer> SampleColumns() {
  std::vector<ColumnBuffer> columns;
  columns.emplace_back("id", ColumnType::kInt64);
  columns.emplace_back("amount", ColumnType::kFloat64);
  columns.emplace_back("ok", ColumnType::kBool);
  columns.emplace_back("name", ColumnType::kString);
  columns.emplace_back("at", ColumnType::kTimestamp);
  for (int row = 0; row < 3; ++row) {
    columns[0].AppendInt64(row * 10);
    row == 1 ? columns[1].AppendNull() : columns[1].AppendFloat64(row + 0.5);
    columns[2].AppendBool(row % 2 == 0);
    columns[3].AppendStringPart("na");
    columns[3].AppendStringPart(std::string(static_cast<std::size_t>(row), 'x'));
    columns[3].EndString();
    columns[4].AppendInt64(1'700'000'000'000'000 + row);
  }
  return columns;
}

TEST(Batch, WrittenIntoABlockAndReadInPlace) {
  Block block(1 << 16);
  const auto columns = SampleColumns();
  const std::vector<std::uint32_t> lines = {0, 1, 3};
  auto bytes = WriteBatch(block.span(), {.chunk_index = 7, .first_line = 100, .first_byte = 4096},
                          columns, lines);
  ASSERT_TRUE(bytes) << bytes.error().message;
  // In place: the batch is the tail of the block, not a buffer of its own.
  EXPECT_EQ(bytes->data() + bytes->size(), block.span().data() + block.span().size());
  EXPECT_LE(bytes->size(), BatchSizeBound(columns, 3));

  auto view = BatchView::Open(*bytes);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->info().chunk_index, 7u);
  EXPECT_EQ(view->info().first_byte, 4096u);
  EXPECT_EQ(view->row_count(), 3u);
  EXPECT_EQ(view->schema().ToString(), "id:int64,amount:float64,ok:bool,name:string,at:timestamp");
  EXPECT_EQ(view->row_line(2), 103u);
  EXPECT_EQ(view->column(0).int64(2), 20);
  EXPECT_TRUE(view->column(1).is_null(1));
  EXPECT_FALSE(view->column(1).is_null(2));
  EXPECT_DOUBLE_EQ(view->column(1).float64(2), 2.5);
  EXPECT_TRUE(view->column(2).boolean(0));
  EXPECT_FALSE(view->column(2).boolean(1));
  EXPECT_EQ(view->column(3).string(0), "na");
  EXPECT_EQ(view->column(3).string(2), "naxx");
  EXPECT_FALSE(view->column(3).is_null(0));
  EXPECT_EQ(view->column(4).int64(1), 1'700'000'000'000'001);
}

// A batch must start 4-byte aligned (FlatBuffers reads its offsets in place, its Verifier too),
// but its 8-byte values need not be 8-byte aligned: the views load them with memcpy. Both are
// checked under UBSan's alignment check.
TEST(BatchView, ReadsABatchOnlyFourByteAlignedAndRefusesAnOddOne) {
  Block block(1 << 16);
  const auto columns = SampleColumns();
  const std::vector<std::uint32_t> lines = {0, 1, 3};
  auto bytes = WriteBatch(block.span(), {.first_line = 100}, columns, lines);
  ASSERT_TRUE(bytes) << bytes.error().message;
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(bytes->data()) % 8, 0u);
  std::vector<std::uint64_t> storage(bytes->size() / 8 + 2);  // 8-byte aligned
  const auto moved = std::as_writable_bytes(std::span(storage)).subspan(4, bytes->size());
  std::memcpy(moved.data(), bytes->data(), bytes->size());

  auto view = BatchView::Open(moved);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->row_line(2), 103u);
  EXPECT_EQ(view->column(0).int64(2), 20);
  EXPECT_DOUBLE_EQ(view->column(1).float64(2), 2.5);
  EXPECT_EQ(view->column(3).string(2), "naxx");
  EXPECT_EQ(view->column(4).int64(1), 1'700'000'000'000'001);

  std::memmove(moved.data() + 1, moved.data(), bytes->size() - 1);  // now at an odd address
  auto odd = BatchView::Open(std::span(moved.data() + 1, bytes->size() - 1));
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message, "not a record batch: not 4-byte aligned");
}

TEST(Batch, PopBackUndoesAPartialRow) {
  ColumnBuffer strings("s", ColumnType::kString);
  strings.AppendString("keep");
  strings.AppendString("drop");
  strings.PopBack();
  strings.AppendNull();
  strings.PopBack();
  strings.AppendString("next");
  Block block(4096);
  const std::vector<ColumnBuffer> columns = {strings};
  auto view = BatchView::Open(*WriteBatch(block.span(), {}, columns, {}));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->row_count(), 2u);
  EXPECT_EQ(view->column(0).string(1), "next");
  EXPECT_FALSE(view->column(0).is_null(1));
}

TEST(Batch, TooLargeForTheBlockIsAValue) {
  ColumnBuffer ints("n", ColumnType::kInt64);
  for (int i = 0; i < 1000; ++i) ints.AppendInt64(i);
  Block block(4096);
  const std::vector<ColumnBuffer> columns = {ints};
  auto bytes = WriteBatch(block.span(), {}, columns, {});
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, StageErrc::kBatchTooLarge);
}

TEST(Batch, MismatchedColumnLengthsAreRefused) {
  auto columns = SampleColumns();
  columns[2].AppendBool(true);
  Block block(1 << 16);
  EXPECT_EQ(WriteBatch(block.span(), {}, columns, {}).error().code, StageErrc::kInvalidArgument);
}

TEST(BatchView, RejectsEveryCorruptionItCannotSafelyRead) {
  Block block(1 << 16);
  const auto columns = SampleColumns();
  auto bytes = WriteBatch(block.span(), {}, columns, {});
  ASSERT_TRUE(bytes);
  const std::vector<std::byte> original(bytes->begin(), bytes->end());
  // Flip every byte in turn: Open either rejects, or yields a batch whose every accessor is
  // in bounds (a flipped value byte is still a valid batch). ASan checks the reads.
  int rejected = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    std::memcpy(bytes->data(), original.data(), original.size());
    (*bytes)[i] ^= std::byte{0xff};
    auto view = BatchView::Open(*bytes);
    if (!view) {
      EXPECT_EQ(view.error().code, StageErrc::kMalformedBatch);
      ++rejected;
      continue;
    }
    testing::ReadAll(*view);
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(BatchView::Open(std::span(original).first(original.size() / 2)).error().code,
            StageErrc::kMalformedBatch);
}

TEST(Schema, ParsesPrintsAndRejects) {
  const auto schema = Schema::Parse("id:int64, amount : float64,name,at:timestamp,ok:bool");
  EXPECT_EQ(schema.ToString(), "id:int64,amount:float64,name:string,at:timestamp,ok:bool");
  EXPECT_EQ(schema.Find("name"), 2u);
  EXPECT_FALSE(schema.Find("nope"));
  EXPECT_THROW(Schema::Parse("a:int32"), std::invalid_argument);
  EXPECT_THROW(Schema::Parse("a,a"), std::invalid_argument);
  EXPECT_THROW(Schema::Parse(""), std::invalid_argument);
  EXPECT_THROW(Schema::Parse("a,,b"), std::invalid_argument);
  EXPECT_THROW(Schema({{"a", ColumnType::kInt64}, {"\xff", ColumnType::kString}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace zcpipe::stages
