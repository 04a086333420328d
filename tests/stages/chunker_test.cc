#include "zcpipe/stages/chunker.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_file.h"

namespace zcpipe::stages {
namespace {

using zcpipe::testing::TempFile;

struct Cut {
  std::string text;
  std::uint64_t index, first_line, first_byte;
};

std::vector<Cut> CutAll(const std::string& text, ChunkerOptions options, std::size_t block_size,
                        InputErrors* rejected = nullptr) {
  TempFile file(text);
  auto chunker = Chunker::Open(file.path(), options);
  EXPECT_TRUE(chunker);
  std::vector<std::byte> block(block_size);
  std::vector<Cut> cuts;
  for (;;) {
    auto next = chunker->Next(block);
    EXPECT_TRUE(next);
    for (auto& error : chunker->TakeRejected()) {
      if (rejected != nullptr) rejected->push_back(error);
    }
    if (!next || !*next) break;
    const Chunk& chunk = **next;
    EXPECT_EQ(static_cast<const void*>(chunk.bytes.data()), static_cast<void*>(block.data()));
    cuts.push_back(
        {std::string(reinterpret_cast<const char*>(chunk.bytes.data()), chunk.bytes.size()),
         chunk.index, chunk.first_line, chunk.first_byte});
  }
  return cuts;
}

TEST(Chunker, CutsOnRecordBoundariesOutsideQuotes) {
  const std::string text = "a,b\n1,\"x\ny\"\n2,z\n3,w\n";
  const auto cuts = CutAll(text, {.chunk_size = 8, .quote = '"', .delimiter = ','}, 64);
  std::string joined;
  for (const auto& cut : cuts) {
    joined += cut.text;
    EXPECT_TRUE(cut.text.ends_with('\n')) << cut.text;
    EXPECT_EQ(cut.first_byte, joined.size() - cut.text.size());
  }
  EXPECT_EQ(joined, text);
  ASSERT_GE(cuts.size(), 3u);
  EXPECT_EQ(cuts[1].text, "1,\"x\ny\"\n");  // the quoted newline did not end the record
  EXPECT_EQ(cuts[2].text, "2,z\n3,w\n");    // no quote in it: cut at the last newline at once
  EXPECT_EQ(cuts[1].first_line, 2u);
  EXPECT_EQ(cuts[2].first_line, 4u);
  for (std::size_t i = 0; i < cuts.size(); ++i) EXPECT_EQ(cuts[i].index, i);
}

TEST(Chunker, JsonLinesCutsOnEveryNewline) {
  const std::string text = "{\"a\":\"\\\"\"}\n{\"a\":2}\n{\"a\":3}";
  const auto cuts = CutAll(text, {.chunk_size = 12, .quote = 0, .delimiter = ','}, 64);
  ASSERT_EQ(cuts.size(), 3u);
  EXPECT_EQ(cuts[2].text, "{\"a\":3}");  // the last line needs no newline
  EXPECT_EQ(cuts[2].first_line, 3u);
}

TEST(Chunker, ARecordLongerThanABlockIsReportedAndSkippedToTheNextLine) {
  const std::string text = "h\n\"" + std::string(300, 'x') + "\nnext\n";
  InputErrors rejected;
  const auto cuts =
      CutAll(text, {.chunk_size = 64, .quote = '"', .delimiter = ','}, 128, &rejected);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].reason, InputErrc::kRecordTooLarge);
  EXPECT_EQ(rejected[0].line, 2u);
  EXPECT_EQ(rejected[0].byte_offset, 2u);
  std::string joined;
  for (const auto& cut : cuts) joined += cut.text;
  EXPECT_EQ(joined, "h\nnext\n");
  EXPECT_EQ(cuts.back().first_line, 3u);
  EXPECT_EQ(cuts.back().first_byte, text.size() - 5);
}

TEST(Chunker, AMissingFileIsAnIoErrorNamingIt) {
  auto chunker = Chunker::Open("/nonexistent/input.csv", {});
  ASSERT_FALSE(chunker);
  EXPECT_EQ(chunker.error().code, StageErrc::kIo);
  EXPECT_EQ(chunker.error().message,
            "/nonexistent/input.csv: cannot open: No such file or directory");
}

}  // namespace
}  // namespace zcpipe::stages
