// SplitRecords: how a poison chunk is cut into rejected rows, and the first record alone (what
// the coordinator sends workers as the CSV header).
#include "import_stages.h"

#include <gtest/gtest.h>

#include <string_view>

namespace zcpipe::detail {
namespace {

std::span<const std::byte> Bytes(std::string_view text) { return std::as_bytes(std::span(text)); }

TEST(SplitRecords, CutsAtNewlinesOutsideQuotesWithTheirLinesAndOffsets) {
  const auto records = SplitRecords(Bytes("a,b\r\n\"x\ny\",2\n\nlast"), ',', '"', 10, 1000);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].raw, "a,b");
  EXPECT_EQ(records[0].line, 10u);
  EXPECT_EQ(records[0].byte_offset, 1000u);
  EXPECT_EQ(records[1].raw, "\"x\ny\",2");
  EXPECT_EQ(records[1].line, 11u);
  EXPECT_EQ(records[1].byte_offset, 1005u);
  EXPECT_EQ(records[2].raw, "last") << "the empty line between is no record";
  EXPECT_EQ(records[2].line, 14u);
  for (const auto& record : records) EXPECT_EQ(record.reason, stages::InputErrc::kPoison);
}

TEST(SplitRecords, JsonLinesHaveNoQuoting) {
  const auto records = SplitRecords(Bytes("{\"a\":\"\n\"}\n"), ',', '\0', 1, 0);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].raw, "{\"a\":\"");
  EXPECT_EQ(records[1].raw, "\"}");
}

// A quote opens a quoted field only at a field start, as the parser reads it (issue 23: without
// the delimiter, every quote opened or closed one, so `5'11"` swallowed the next record).
TEST(SplitRecords, AStrayQuoteInsideAFieldIsLiteral) {
  const auto stray = SplitRecords(Bytes("5'11\",y\nz\"\nw\n"), ',', '"', 1, 0);
  ASSERT_EQ(stray.size(), 3u);
  EXPECT_EQ(stray[0].raw, "5'11\",y");
  const auto semicolons = SplitRecords(Bytes("x;\"a\nb\";y\nz\n"), ';', '"', 1, 0);
  ASSERT_EQ(semicolons.size(), 2u);
  EXPECT_EQ(semicolons[0].raw, "x;\"a\nb\";y");
}

TEST(SplitRecords, StopsAtItsLimit) {
  const auto first = SplitRecords(Bytes("\"id\nx\",name\n1,a\n2,b\n"), ',', '"', 1, 0, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].raw, "\"id\nx\",name");
  EXPECT_TRUE(SplitRecords(Bytes("1,a\n"), ',', '"', 1, 0, 0).empty());
}

}  // namespace
}  // namespace zcpipe::detail
