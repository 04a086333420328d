// Transforms whose output is larger than their input (issue 22): Transform::ApplyFrom writes a
// batch's rows into as many blocks as they need, for the built-ins and for transforms of the
// user's, and the rows that come out are those one large block would hold.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "block.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::stages {
namespace {

using testing::Block;
using Rows = std::vector<std::vector<std::string>>;

constexpr BatchInfo kInfo{.chunk_index = 3, .first_line = 10, .first_byte = 512};

// id:int64, ok:bool, code:string, n:string: narrow values, `rows` rows on lines 10, 12, 14...
struct Narrow {
  explicit Narrow(std::uint32_t rows) : block(std::size_t{4} << 20) {
    std::vector<ColumnBuffer> c;
    c.emplace_back("id", ColumnType::kInt64);
    c.emplace_back("ok", ColumnType::kBool);
    c.emplace_back("code", ColumnType::kString);
    c.emplace_back("n", ColumnType::kString);
    std::vector<std::uint32_t> lines;
    for (std::uint32_t r = 0; r < rows; ++r) {
      c[0].AppendInt64(r);
      c[1].AppendBool(r % 3 == 0);
      c[2].AppendString(std::string(1, static_cast<char>('a' + r % 26)));
      c[3].AppendString(r % 7 == 6 ? "x" : std::to_string(r % 10));  // a bad int64 every 7th
      lines.push_back(2 * r);
    }
    batch = *BatchView::Open(*WriteBatch(block.span(), kInfo, c, lines));
  }
  [[nodiscard]] const BatchView& view() const { return *batch; }
  Block block;
  std::optional<BatchView> batch;
};

// Every value of a batch as text, row by row, with the row's line first.
Rows Text(const BatchView& batch) {
  Rows rows;
  for (std::uint32_t r = 0; r < batch.row_count(); ++r) {
    std::vector<std::string> row{std::to_string(batch.row_line(r))};
    for (std::size_t c = 0; c < batch.column_count(); ++c) {
      const auto column = batch.column(c);
      if (column.is_null(r)) {
        row.emplace_back("null");
        continue;
      }
      switch (column.type()) {
        case ColumnType::kInt64:
        case ColumnType::kTimestamp:
        case ColumnType::kDate:
        case ColumnType::kDateTime:
          row.push_back(std::to_string(column.int64(r)));
          break;
        case ColumnType::kFloat64:
          row.push_back(std::to_string(column.float64(r)));
          break;
        case ColumnType::kBool:
          row.emplace_back(column.boolean(r) ? "true" : "false");
          break;
        case ColumnType::kString:
          row.emplace_back(column.string(r));
          break;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// What ApplyFrom writes, block after block of `block_size` bytes, until every row is covered.
struct Parts {
  Rows rows;
  InputErrors rejected;
  std::size_t blocks = 0, bytes = 0;
  std::uint64_t rows_out = 0, rows_rejected = 0, rows_filtered = 0;
};
Parts ApplyInBlocks(const Transform& transform, const BatchView& in, std::size_t block_size) {
  Parts parts;
  std::uint32_t row = 0;
  do {
    Block block(block_size);
    auto out = transform.ApplyFrom(in, row, block.span(), parts.rejected);
    if (!out) {
      ADD_FAILURE() << out.error().message;
      return parts;
    }
    const auto batch = BatchView::Open(out->batch);
    EXPECT_TRUE(batch.has_value());
    EXPECT_EQ(batch->row_count(), out->rows_out);
    EXPECT_EQ(batch->info().chunk_index, kInfo.chunk_index);
    const auto rows = Text(*batch);
    parts.rows.insert(parts.rows.end(), rows.begin(), rows.end());
    ++parts.blocks;
    parts.bytes += out->batch.size();
    parts.rows_out += out->rows_out;
    parts.rows_rejected += out->rows_rejected;
    parts.rows_filtered += out->rows_filtered;
    const std::uint32_t covered = out->rows_out + out->rows_rejected + out->rows_filtered;
    EXPECT_GE(covered, 1U) << "no progress from row " << row;
    if (covered == 0) return parts;
    row += covered;
  } while (row < in.row_count());
  EXPECT_EQ(parts.rows_rejected, parts.rejected.size());
  EXPECT_EQ(in.row_count(), parts.rows_out + parts.rows_rejected + parts.rows_filtered);
  return parts;
}

// The same transform in one block large enough for everything.
Parts ApplyInOne(const Transform& transform, const BatchView& in) {
  return ApplyInBlocks(transform, in, std::size_t{16} << 20);
}

std::vector<std::uint64_t> Lines(const InputErrors& rejected) {
  std::vector<std::uint64_t> lines;
  for (const auto& error : rejected) lines.push_back(error.line);
  return lines;
}

// A transform of the user's that adds a column 40 times as wide as `code`.
class Widen final : public Transform {
 public:
  Schema OutputSchema(const Schema& input) const override {
    auto columns = input.columns();
    columns.push_back({"wide", ColumnType::kString});
    return Schema(columns);
  }
  StageResult<TransformOutput> Apply(const BatchView& in, std::span<std::byte> out,
                                     InputErrors&) const override {
    const auto columns = OutputSchema(in.schema()).columns();
    std::size_t code = 0;
    while (in.column(code).name() != "code") ++code;
    TransformWriter writer(in, columns);
    for (std::uint32_t r = 0; r < in.row_count(); ++r) {
      for (std::size_t c = 0; c < in.column_count(); ++c) writer.CopyValue(c, in.column(c), r);
      std::string wide;
      for (int i = 0; i < 40; ++i) wide += in.column(code).string(r);
      writer.column(in.column_count()).AppendString(wide);
      writer.EndRow(r);
    }
    return writer.Finish(out, 0, 0);
  }
};

const std::array<std::byte, kHashKeySize> kKey{};

// Each case: a transform that makes its output 10 and more times its input.
struct Case {
  const char* name;
  std::unique_ptr<Transform> (*make)();
};
const Case kCases[] = {
    {"hash", [] { return ParseTransform("hash", "ok,code,id", kKey); }},
    {"cast", [] { return ParseTransform("cast", "ok:string,code:string,n:int64"); }},
    {"chain",
     []() -> std::unique_ptr<Transform> {
       std::vector<std::unique_ptr<Transform>> chain;
       chain.push_back(ParseTransform("filter", "id != 5"));
       chain.push_back(ParseTransform("hash", "code", kKey));
       chain.push_back(ParseTransform("cast", "ok:string,n:int64"));
       chain.push_back(ParseTransform("mask", "code:keep_last=2"));
       return std::make_unique<TransformChain>(std::move(chain));
     }},
    {"user", []() -> std::unique_ptr<Transform> { return std::make_unique<Widen>(); }},
    {"user in a chain",
     []() -> std::unique_ptr<Transform> {
       std::vector<std::unique_ptr<Transform>> chain;
       chain.push_back(std::make_unique<Widen>());
       chain.push_back(ParseTransform("hash", "ok", kKey));
       chain.push_back(ParseTransform("cast", "n:int64"));
       return std::make_unique<TransformChain>(std::move(chain));
     }},
};

TEST(TransformWiden, EachTransformContinuesInAnotherBlockWithTheRowsOneBlockWouldHold) {
  const Narrow in(5000);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const auto transform = c.make();
    const auto reference = ApplyInOne(*transform, in.view());
    // Blocks a tenth of the output: the transform's output needs 10 and more of them.
    const std::size_t block = reference.bytes / 10;
    InputErrors ignored;
    const auto whole = transform->Apply(in.view(), Block(block).span(), ignored);
    ASSERT_FALSE(whole.has_value());
    EXPECT_EQ(whole.error().code, StageErrc::kBatchTooLarge);

    const auto parts = ApplyInBlocks(*transform, in.view(), block);
    EXPECT_GE(parts.blocks, 10U);
    EXPECT_EQ(parts.rows, reference.rows);  // values and lines, in order
    EXPECT_EQ(Lines(parts.rejected), Lines(reference.rejected));
    EXPECT_EQ(parts.rows_filtered, reference.rows_filtered);
  }
}

TEST(TransformWiden, RejectedRowsKeepTheirLinesInEveryPart) {
  const Narrow in(2000);
  const auto cast = ParseTransform("cast", "ok:string,code:string,n:int64");
  const auto parts = ApplyInBlocks(*cast, in.view(), in.view().bytes().size() / 8);
  ASSERT_GE(parts.blocks, 10U);
  std::vector<std::uint64_t> expected;
  for (std::uint32_t r = 6; r < 2000; r += 7) expected.push_back(kInfo.first_line + 2 * r);
  EXPECT_EQ(Lines(parts.rejected), expected);
  for (const auto& error : parts.rejected) {
    EXPECT_EQ(error.reason, InputErrc::kBadInt64);
    EXPECT_EQ(error.column, "n");
  }
}

TEST(TransformWiden, ARowTooLargeForAnyBlockIsRejectedAndTheOthersGoOn) {
  // Row 1's code is 4 KiB: hashed it is small, but passed through a 3 KiB block it cannot fit.
  Block storage(1 << 20);
  std::vector<ColumnBuffer> c;
  c.emplace_back("id", ColumnType::kInt64);
  c.emplace_back("code", ColumnType::kString);
  for (std::int64_t r = 0; r < 4; ++r) {
    c[0].AppendInt64(r);
    c[1].AppendString(r == 1 ? std::string(4096, 'c') : "c");
  }
  const auto in = *BatchView::Open(*WriteBatch(storage.span(), kInfo, c, {}));
  const std::unique_ptr<Transform> transforms[] = {ParseTransform("mask", "code"),
                                                   std::make_unique<Widen>()};
  for (const auto& transform : transforms) {
    const auto parts = ApplyInBlocks(*transform, in, 3072);
    ASSERT_EQ(parts.rejected.size(), 1U);
    EXPECT_EQ(parts.rejected[0].reason, InputErrc::kRecordTooLarge);
    EXPECT_EQ(parts.rejected[0].line, kInfo.first_line + 1);
    EXPECT_EQ(parts.rows_out, 3U);
  }
}

TEST(TransformWiden, ABlockThatCannotHoldAnEmptyBatchIsAnErrorNotARejection) {
  const Narrow in(10);
  const auto hash = ParseTransform("hash", "code", kKey);
  Block tiny(64);
  InputErrors rejected;
  const auto out = hash->ApplyFrom(in.view(), 0, tiny.span(), rejected);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, StageErrc::kBatchTooLarge);
  EXPECT_TRUE(rejected.empty());
}

}  // namespace
}  // namespace zcpipe::stages
