// BlockGate: the chunk the writer waits for can always take a block; the chunks behind it leave
// the reserve free and park, never holding a thread, until a block comes back (issue 22).
#include "block_gate.h"

#include <gtest/gtest.h>

#include <future>
#include <vector>

namespace zcpipe::detail {
namespace {

shm::BlockPool Pool(std::uint32_t blocks) {
  auto pool = shm::BlockPool::Create({.block_size = 4096, .block_count = blocks});
  EXPECT_TRUE(pool.has_value());
  return std::move(*pool);
}

TEST(BlockGate, ChunksBehindTheHeadLeaveTheReserveForIt) {
  auto pool = Pool(6);
  BlockGate gate(pool, 2);
  std::vector<shm::Handle> behind;
  while (auto block = gate.TryTake(3, shm::BlockEnd::kLow)) behind.push_back(*block);
  EXPECT_EQ(behind.size(), 4u) << "chunk 3 stops with 2 blocks free";
  EXPECT_FALSE(gate.TryTake(1, shm::BlockEnd::kLow)) << "so does every chunk behind the head";
  // The head (seq 0) takes them, down to the last.
  auto first = gate.TryTake(0, shm::BlockEnd::kLow);
  auto last = gate.TryTake(0, shm::BlockEnd::kHigh);
  ASSERT_TRUE(first && last);
  EXPECT_FALSE(gate.TryTake(0, shm::BlockEnd::kLow)) << "an empty arena refuses the head too";
  EXPECT_TRUE(gate.IsHead(0));
  EXPECT_FALSE(gate.IsHead(1));
  for (const auto& block : behind) gate.Release(block);
  gate.Release(*first);
  gate.Release(*last);
  EXPECT_EQ(pool.blocks_in_use(), 0u);
}

// A chunk that parks until the gate hands it a block: its retry parks again when refused.
struct Waiter {
  BlockGate& gate;
  std::uint64_t seq;
  std::promise<shm::Handle> got;
  void Try() {
    std::uint64_t epoch = 0;
    if (auto block = gate.TryTake(seq, shm::BlockEnd::kLow, &epoch)) return got.set_value(*block);
    gate.Park(seq, epoch, [this] { Try(); });
  }
};

TEST(BlockGate, ABlockThatComesBackGoesToTheHeadNotToAChunkBehindIt) {
  auto pool = Pool(3);
  BlockGate gate(pool, 1);
  auto a = gate.TryTake(0, shm::BlockEnd::kLow);
  auto b = gate.TryTake(0, shm::BlockEnd::kLow);
  auto c = gate.TryTake(0, shm::BlockEnd::kLow);
  ASSERT_TRUE(a && b && c);
  Waiter behind{gate, 2, {}}, head{gate, 0, {}};
  auto behind_got = behind.got.get_future();
  auto head_got = head.got.get_future();
  behind.Try();
  head.Try();
  gate.Release(*a);
  const shm::Handle for_head = head_got.get();
  EXPECT_EQ(for_head.block, a->block);
  gate.Release(*b);  // 1 free: still the reserve
  gate.Release(*c);  // 2 free: chunk 2 may take one
  const shm::Handle for_behind = behind_got.get();
  gate.Release(for_head);
  gate.Release(for_behind);
  EXPECT_EQ(pool.blocks_in_use(), 0u);
}

TEST(BlockGate, ARetryParkedAfterTheEventItMissedRunsAnyway) {
  auto pool = Pool(2);
  BlockGate gate(pool, 1);
  auto a = gate.TryTake(0, shm::BlockEnd::kLow);
  auto b = gate.TryTake(0, shm::BlockEnd::kLow);
  ASSERT_TRUE(a && b);
  std::uint64_t epoch = 0;
  EXPECT_FALSE(gate.TryTake(0, shm::BlockEnd::kLow, &epoch));
  gate.Release(*a);  // before the chunk parks: its retry must not wait for another event
  std::promise<void> ran;
  gate.Park(0, epoch, [&] { ran.set_value(); });
  ran.get_future().wait();
  gate.Release(*b);
}

TEST(BlockGate, TheWriterMovingOnMakesTheNextChunkTheHead) {
  auto pool = Pool(2);
  BlockGate gate(pool, 1);
  auto a = gate.TryTake(0, shm::BlockEnd::kLow);
  ASSERT_TRUE(a);
  Waiter next{gate, 1, {}};
  auto got = next.got.get_future();
  next.Try();       // refused: the one free block is the reserve
  gate.Advance(1);  // chunk 0 written (its block still held here): chunk 1 may take the last
  gate.Release(got.get());
  gate.Release(*a);
}

}  // namespace
}  // namespace zcpipe::detail
