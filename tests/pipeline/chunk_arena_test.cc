// ChunkArena: the plan a job makes of its arena, and a chunk the arena cannot hold failing the
// job with "arena exhausted" instead of waiting for itself (issue 23: the arena's own class).
#include "chunk_arena.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "import_error.h"
#include "zcpipe/shm/block_pool.h"

namespace zcpipe::detail {
namespace {

TEST(ChunkArena, BlocksAreWholePagesHoldingTheChunksAndAFrame) {
  EXPECT_EQ(ChunkArena::BlockSize(1000, 1), shm::kBlockAlignment);
  // A chunk of exactly a page leaves no room for the frame's header and tag: two pages.
  EXPECT_EQ(ChunkArena::BlockSize(4096, 1), 2 * shm::kBlockAlignment);
  EXPECT_EQ(ChunkArena::BlockSize(4096, 2) % shm::kBlockAlignment, 0U);
}

TEST(ChunkArena, PlanKeepsChunksInFlightWithinTheArena) {
  JobConfig config;
  config.input = "in.csv";
  config.chunk_size = 4096;
  const auto block = ChunkArena::BlockSize(4096, 2);
  config.arena_size = 20 * block;
  const ArenaPlan plan = ChunkArena::Plan(config, 4, 4);
  EXPECT_EQ(plan.pool.block_size, block);
  EXPECT_EQ(plan.pool.block_count, 20U);
  EXPECT_EQ(plan.in_flight, 6U);  // 4 threads + 2, within (20 - 2) / 3
  EXPECT_EQ(plan.batch_room, block - stages::kFrameHeaderSize - stages::kChunkTagSize);
  EXPECT_FALSE(plan.ledger);  // in-process
  EXPECT_GE(plan.reserve, 1U);
  EXPECT_LT(plan.reserve, plan.pool.block_count);
}

class ChunkArenaExhausted : public ::testing::Test {
 protected:
  // An arena of 3 blocks for 4 KiB chunks: one chunk in flight.
  static JobConfig Config() {
    JobConfig config;
    config.input = "in.csv";
    config.chunk_size = 4096;
    config.arena_size = 3 * std::uint64_t{ChunkArena::BlockSize(4096, 2)};
    return config;
  }
  void SetUp() override {
    plan_ = ChunkArena::Plan(config_, 1, 1);
    ASSERT_EQ(plan_.in_flight, 1U);
    auto pool = shm::BlockPool::Create(plan_.pool);
    ASSERT_TRUE(pool.has_value());
    pool_ = std::make_unique<shm::BlockPool>(std::move(*pool));
    arena_ = std::make_unique<ChunkArena>(*pool_, plan_, false, errors_, failed_, cancel_);
  }
  // Takes every block for the head chunk (seq 0).
  void TakeAll() {
    for (std::uint32_t i = 0; i < plan_.pool.block_count; ++i) {
      auto block = arena_->Allocate(Stage::kParse, 0, &chunk_);
      ASSERT_TRUE(block.has_value());
      taken_.push_back(*block);
    }
  }
  void TearDown() override {
    for (const auto& block : taken_) arena_->Release(block);
  }

  const JobConfig config_ = Config();
  const JobErrors errors_{7, config_};
  std::atomic<bool> failed_{false}, cancel_{false};
  ArenaPlan plan_;
  std::unique_ptr<shm::BlockPool> pool_;
  std::unique_ptr<ChunkArena> arena_;
  ChunkState chunk_ = [] {
    ChunkState chunk;
    chunk.index = 3;
    chunk.first_line = 40;
    chunk.first_byte = 1234;
    return chunk;
  }();
  std::vector<shm::Handle> taken_;
};

TEST_F(ChunkArenaExhausted, ALoneChunkFailsTheJobAtOnceNamingItself) {
  TakeAll();
  auto block = arena_->Allocate(Stage::kParse, 0, &chunk_);  // alone: it would wait for itself
  ASSERT_FALSE(block.has_value());
  ASSERT_TRUE(block.error().error.has_value());
  const ErrorEvent& error = *block.error().error;
  EXPECT_EQ(error.job, 7U);
  EXPECT_EQ(error.kind, ErrorKind::kStage);
  EXPECT_EQ(error.stage, Stage::kParse);
  EXPECT_EQ(error.reason, "arena exhausted");
  EXPECT_EQ(error.chunk, 3U);
  EXPECT_EQ(error.line, 40U);
  EXPECT_EQ(error.byte_offset, 1234U);
  EXPECT_NE(error.message.find("in.csv:40: chunk 3 needs another arena block"), std::string::npos)
      << error.message;
}

TEST_F(ChunkArenaExhausted, AStoppedJobIsRefusedWithNothingToReport) {
  TakeAll();
  cancel_ = true;
  auto block = arena_->Allocate(Stage::kParse, 0, &chunk_);
  ASSERT_FALSE(block.has_value());
  EXPECT_FALSE(block.error().error.has_value());
}

TEST_F(ChunkArenaExhausted, ReleaseAllGivesBackEveryBlockOfAChunk) {
  TakeAll();
  ChunkState chunk;
  chunk.input = taken_[0];
  chunk.batches = {taken_[1], taken_[2]};
  taken_.clear();
  arena_->ReleaseAll(chunk);
  EXPECT_FALSE(chunk.input.valid());
  EXPECT_TRUE(chunk.batches.empty());
  EXPECT_EQ(arena_->bytes_in_use(), 0U);
}

}  // namespace
}  // namespace zcpipe::detail
