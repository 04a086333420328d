#include "zcpipe/shm/block_pool.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.h"
#include "page_faults.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::shm {
namespace {

using testing::ChildProcess;
using testing::KernelCanPopulate;
using testing::MinorFaults;

BlockPool MakePool(std::uint32_t block_size = 4096, std::uint32_t block_count = 4) {
  auto pool = BlockPool::Create({.block_size = block_size, .block_count = block_count});
  if (!pool) throw std::runtime_error(Describe(pool.error()));
  return std::move(*pool);
}

TEST(BlockPool, RejectsBadOptions) {
  EXPECT_EQ(BlockPool::Create({.block_size = 0}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(BlockPool::Create({.block_size = 4095}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(BlockPool::Create({.block_size = 4096, .block_count = 0}).error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(
      BlockPool::Create({.block_size = 4096, .block_count = 2, .resident_blocks = 3}).error().code,
      Errc::kInvalidArgument);
  EXPECT_EQ(BlockPool::Create({.block_size = 4096, .block_count = 3, .resident_high_blocks = 4})
                .error()
                .code,
            Errc::kInvalidArgument);
  EXPECT_EQ(
      BlockPool::Create(
          {.block_size = 4096, .block_count = 3, .resident_blocks = 2, .resident_high_blocks = 2})
          .error()
          .code,
      Errc::kInvalidArgument);
}

// How many of the pages `bytes` spans are resident (mincore).
std::size_t ResidentPages(std::span<std::byte> bytes) {
  std::vector<unsigned char> pages(bytes.size() / 4096);
  if (::mincore(bytes.data(), bytes.size(), pages.data()) != 0) return SIZE_MAX;
  std::size_t resident = 0;
  for (const unsigned char page : pages) resident += page & 1;
  return resident;
}

TEST(BlockPool, ResidentBlocksAreTheFirstHandedOutAtEachEndAndArePopulated) {
  if (!KernelCanPopulate()) GTEST_SKIP() << "no MADV_POPULATE_WRITE before Linux 5.14";
  // Under 2 MiB in all, so in 4 KiB pages: residency is exact to the page.
  auto pool = BlockPool::Create(
      {.block_size = 64 * 4096, .block_count = 5, .resident_blocks = 2, .resident_high_blocks = 1});
  ASSERT_TRUE(pool) << Describe(pool.error());
  std::vector<std::size_t> resident;
  for (int i = 0; i < 5; ++i) {
    auto handle = pool->Allocate();
    ASSERT_TRUE(handle);
    resident.push_back(ResidentPages(*pool->Resolve(*handle)));
  }
  EXPECT_EQ(resident, (std::vector<std::size_t>{64, 64, 0, 0, 64}));
}

TEST(PoolView, ResidentBlocksAreMappedIn2MiBPages) {
  if (const auto why = testing::WhyNoHugePages(); !why.empty()) GTEST_SKIP() << why;
  // Blocks of 1 MiB after a 4 KiB header page: blocks 0 and 1 lie in the segment's first two
  // 2 MiB pages, 6 and 7 in its fourth and a 4 KiB page past it; block 4 in its third, which
  // no resident block touches.
  auto pool = BlockPool::Create(
      {.block_size = 1u << 20, .block_count = 8, .resident_blocks = 2, .resident_high_blocks = 2});
  ASSERT_TRUE(pool) << Describe(pool.error());
  auto view = PoolView::Attach(pool->name());  // a mapping of its own, as in another process
  ASSERT_TRUE(view);
  std::vector<Handle> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(*pool->Allocate());
  const auto faults_writing = [&](const Handle& handle) {
    const auto bytes = *view->Resolve(handle);
    const std::uint64_t before = MinorFaults();
    std::memset(bytes.data(), 1, bytes.size());
    return MinorFaults() - before;
  };
  const std::uint64_t control = faults_writing(blocks[4]);
  if (control < 256) GTEST_SKIP() << "shared memory comes in huge pages here: " << control;
  // One fault per 2 MiB page (two for block 1, which ends 4 KiB into the second), plus one for
  // block 7's last 4 KiB page: the segment's partial last 2 MiB cannot be a 2 MiB page.
  EXPECT_LE(faults_writing(blocks[0]), 1u);
  EXPECT_LE(faults_writing(blocks[1]), 2u);
  EXPECT_LE(faults_writing(blocks[6]), 1u);
  EXPECT_LE(faults_writing(blocks[7]), 2u);
}

// issue 22: a block first touched when /dev/shm had no room left killed the process with SIGBUS
// (or failed as "Bad address"). Each block's memory is allocated when the block is first handed
// out: then Allocate fails with ENOSPC, a value, and the blocks handed out can all be written.
// Here /dev/shm is a 4 MiB tmpfs of the child's own (a private mount namespace: needs root).
TEST(BlockPool, ABlockThatDevShmCannotBackIsAnAllocationErrorNotACrash) {
  constexpr int kSkip = 77;
  auto child = ChildProcess::Fork([]() -> int {
    if (!testing::MountPrivateDevShm("4m")) return kSkip;
    constexpr std::uint32_t kMiB = 1u << 20;
    auto pool = BlockPool::Create({.block_size = kMiB, .block_count = 3, .resident_blocks = 1});
    if (!pool) return 1;
    {  // what /dev/shm has left, but 1 MiB, goes to someone else
      std::ofstream filler("/dev/shm/filler", std::ios::binary);
      filler << std::string(FreeSharedMemory().value() - kMiB, 'x');
      if (!filler.flush()) return 2;
    }
    std::vector<Handle> blocks;
    Result<Handle> block;
    while ((block = pool->Allocate())) blocks.push_back(*block);
    for (const auto& each : blocks) std::memset(pool->Resolve(each)->data(), 1, kMiB);
    if (block.error() != Error{Errc::kSystem, ENOSPC}) return 3;
    if (blocks.size() != 2) return 4;           // the resident one and the one that still fit
    return pool->blocks_in_use() == 2 ? 0 : 5;  // the third stayed free
  });
  const int code = child.ExitCode();
  if (code == kSkip) GTEST_SKIP() << "cannot mount a tmpfs on /dev/shm in a mount namespace";
  EXPECT_EQ(code, 0);  // -7 (SIGBUS) before
}

TEST(BlockPool, BlocksArePageAlignedDisjointAndWhole) {
  BlockPool pool = MakePool(8192, 4);
  std::set<std::byte*> starts;
  for (int i = 0; i < 4; ++i) {
    auto handle = pool.Allocate();
    ASSERT_TRUE(handle);
    EXPECT_EQ(handle->offset, 0u);
    EXPECT_EQ(handle->length, 8192u);
    auto bytes = pool.Resolve(*handle);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(bytes->data()) % 4096, 0u);
    std::memset(bytes->data(), i, bytes->size());  // the whole block is writable
    starts.insert(bytes->data());
  }
  ASSERT_EQ(starts.size(), 4u);
  for (auto it = starts.begin(); std::next(it) != starts.end(); ++it) {
    EXPECT_GE(*std::next(it) - *it, 8192);
  }
}

TEST(BlockPool, ExhaustionIsAValueAndReleaseMakesRoom) {
  BlockPool pool = MakePool(4096, 2);
  auto a = pool.Allocate();
  auto b = pool.Allocate();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(pool.blocks_in_use(), 2u);
  EXPECT_EQ(pool.Allocate().error().code, Errc::kExhausted);
  ASSERT_TRUE(pool.Release(*a));
  auto c = pool.Allocate();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->block, a->block);
  EXPECT_NE(c->generation, a->generation);
  EXPECT_EQ(pool.high_water(), 2u);
}

TEST(BlockPool, AllocatesTheLowestOrTheHighestFreeBlock) {
  BlockPool pool = MakePool(4096, 5);
  const auto block = [&](BlockEnd end) {
    auto handle = pool.Allocate(end);
    return handle ? static_cast<int>(handle->block) : -1;
  };
  auto low = pool.Allocate();
  ASSERT_TRUE(low);
  EXPECT_EQ(low->block, 0u);
  EXPECT_EQ(block(BlockEnd::kHigh), 4);
  EXPECT_EQ(block(BlockEnd::kLow), 1);
  EXPECT_EQ(block(BlockEnd::kHigh), 3);
  ASSERT_TRUE(pool.Release(*low));
  // Freed blocks are not reused in order of release: each end stays packed.
  EXPECT_EQ(block(BlockEnd::kHigh), 2);
  EXPECT_EQ(block(BlockEnd::kHigh), 0);
  EXPECT_EQ(pool.Allocate(BlockEnd::kLow).error().code, Errc::kExhausted);
  EXPECT_EQ(pool.Allocate(BlockEnd::kHigh).error().code, Errc::kExhausted);
}

TEST(BlockPool, StaleHandlesAreRejectedEverywhere) {
  BlockPool pool = MakePool();
  auto first = pool.Allocate();
  ASSERT_TRUE(first);
  ASSERT_TRUE(pool.Release(*first));

  EXPECT_EQ(pool.Resolve(*first).error().code, Errc::kStaleHandle);
  EXPECT_EQ(pool.Release(*first).error().code, Errc::kNotOwned);  // double release

  auto again = pool.Allocate();  // same block, next generation
  ASSERT_TRUE(again);
  ASSERT_EQ(again->block, first->block);
  EXPECT_EQ(pool.Release(*first).error().code, Errc::kStaleHandle);
  auto view = PoolView::Attach(pool.name());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->Resolve(*first).error().code, Errc::kStaleHandle);
  EXPECT_TRUE(view->Resolve(*again));
}

TEST(BlockPool, ForgedHandlesNeverResolve) {
  BlockPool pool = MakePool(4096, 4);
  auto good = pool.Allocate();
  ASSERT_TRUE(good);
  auto view = PoolView::Attach(pool.name());
  ASSERT_TRUE(view);

  Handle wrong_segment = *good;
  wrong_segment.segment ^= 1;
  Handle past_last_block = *good;
  past_last_block.block = 4;
  Handle huge_block = *good;
  huge_block.block = UINT32_MAX;
  Handle never_issued = *good;
  never_issued.generation = 0;
  const Handle overflowing = good->Sub(UINT32_MAX, 2);  // offset + length wraps in 32 bits
  const Handle past_end = good->Sub(4000, 97);

  const std::vector<std::function<Result<std::span<std::byte>>(const Handle&)>> resolvers = {
      [&](const Handle& h) { return pool.Resolve(h); },
      [&](const Handle& h) { return view->Resolve(h); }};
  for (const auto& resolve : resolvers) {
    EXPECT_EQ(resolve(wrong_segment).error().code, Errc::kWrongSegment);
    EXPECT_EQ(resolve(past_last_block).error().code, Errc::kBlockOutOfRange);
    EXPECT_EQ(resolve(huge_block).error().code, Errc::kBlockOutOfRange);
    EXPECT_EQ(resolve(never_issued).error().code, Errc::kStaleHandle);
    EXPECT_EQ(resolve(overflowing).error().code, Errc::kOutOfBounds);
    EXPECT_EQ(resolve(past_end).error().code, Errc::kOutOfBounds);
    EXPECT_TRUE(resolve(good->Sub(4000, 96)));
  }
  EXPECT_EQ(pool.Release(wrong_segment).error().code, Errc::kWrongSegment);
  EXPECT_EQ(pool.Release(past_last_block).error().code, Errc::kBlockOutOfRange);
  // Nor are they followed by Populate, which indexes its per-block flags only after Resolve
  // (ASan reports it if not).
  for (const Handle& forged : {past_last_block, huge_block}) view->Populate(forged);
}

// issue 24: peers map the arena read-write, generation words and header included. A peer that
// scribbles on them (a hostile worker, any process of the same user) must not make the owner's
// Resolve or Release fail for the blocks it handed out: once it did, and the coordinator
// dereferenced the failed Resolve (SIGSEGV).
TEST(BlockPool, APeerScribblingOnTheSharedWordsCannotChangeWhatTheOwnerResolves) {
  BlockPool pool = MakePool(4096, 4);
  auto held = pool.Allocate();
  ASSERT_TRUE(held);
  auto view = PoolView::Attach(pool.name());
  ASSERT_TRUE(view);
  auto peer = Segment::Attach(pool.name());  // the whole segment, as any same-uid process has
  ASSERT_TRUE(peer);
  // Everything between the segment header and the first block: pool header, generations.
  const auto shared = peer->payload().first(4096 - 128);
  for (std::size_t i = 0; i < shared.size(); ++i) {
    shared[i] = static_cast<std::byte>(0x5a ^ (i * 131));
  }

  EXPECT_EQ(view->Resolve(*held).error().code, Errc::kStaleHandle);  // the peer's own problem
  auto bytes = pool.Resolve(*held);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 4096u);
  auto other = pool.Allocate();
  ASSERT_TRUE(other);
  EXPECT_TRUE(pool.Resolve(*other));
  ASSERT_TRUE(pool.Release(*held));  // writes the shared word again: peers see it right
  EXPECT_EQ(pool.Resolve(*held).error().code, Errc::kStaleHandle);
  auto again = pool.Allocate();
  ASSERT_TRUE(again);
  ASSERT_EQ(again->block, held->block);
  EXPECT_TRUE(pool.Resolve(*again));
  EXPECT_TRUE(view->Resolve(*again));
}

TEST(PoolView, RefusesASegmentThatIsNotABlockPool) {
  auto raw = Segment::Create({.payload_size = 1 << 16});
  ASSERT_TRUE(raw);
  EXPECT_EQ(PoolView::Attach(raw->name()).error().code, Errc::kBadLayout);
}

// The payload is written in place by one process and read in place by the other: the bytes
// live at the same segment offset on both sides and nothing carries them but the mapping.
TEST(PoolView, PayloadIsSharedInPlaceAcrossProcesses) {
  BlockPool pool = MakePool(1 << 20, 2);
  auto handle = pool.Allocate();
  ASSERT_TRUE(handle);
  auto parent_bytes = pool.Resolve(*handle);
  ASSERT_TRUE(parent_bytes);
  for (std::size_t i = 0; i < parent_bytes->size(); ++i) {
    (*parent_bytes)[i] = static_cast<std::byte>(i * 7);
  }

  ChildProcess child = ChildProcess::Fork([&] {
    auto view = PoolView::Attach(pool.name());
    if (!view) return 1;
    auto bytes = view->Resolve(*handle);
    if (!bytes || bytes->size() != (1u << 20)) return 2;
    for (std::size_t i = 0; i < bytes->size(); ++i) {
      if ((*bytes)[i] != static_cast<std::byte>(i * 7)) return 3;  // read in place
      (*bytes)[i] = static_cast<std::byte>(i * 13);                // write in place
    }
    return 0;
  });
  ASSERT_EQ(child.ExitCode(), 0);
  for (std::size_t i = 0; i < parent_bytes->size(); ++i) {
    ASSERT_EQ((*parent_bytes)[i], static_cast<std::byte>(i * 13)) << "at byte " << i;
  }
}

TEST(PoolView, PopulateMapsABlockSoThatWritingItTakesNoFault) {
  if (const auto why = testing::WhyFaultsShowNoPopulating(); !why.empty()) GTEST_SKIP() << why;
  constexpr std::uint32_t kPages = 64;
  BlockPool pool = MakePool(kPages * 4096, 2);
  auto view = PoolView::Attach(pool.name());  // a mapping of its own, as in another process
  ASSERT_TRUE(view);
  const auto faults_writing = [&](const Handle& handle) {
    const auto bytes = *view->Resolve(handle);
    const std::uint64_t before = MinorFaults();
    std::memset(bytes.data(), 1, bytes.size());
    return MinorFaults() - before;
  };
  const auto unpopulated = pool.Allocate(), populated = pool.Allocate();
  ASSERT_TRUE(unpopulated && populated);
  const std::uint64_t control = faults_writing(*unpopulated);
  if (control < kPages) GTEST_SKIP() << "shared memory comes in huge pages here: " << control;
  // A handle Resolve refuses (here a stale one) is ignored: it does not use up the block's
  // one populating call, which the next, valid one then makes.
  Handle stale = *populated;
  ++stale.generation;
  view->Populate(stale);
  view->Populate(populated->Sub(0, 8));  // a part names its whole block
  EXPECT_EQ(faults_writing(*populated), 0u);
}

TEST(BlockPool, ConcurrentAllocateAndReleaseKeepOneOwnerPerBlock) {
  BlockPool pool = MakePool(4096, 8);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        auto handle = pool.Allocate();
        if (!handle) continue;  // exhausted by the others right now
        auto bytes = pool.Resolve(*handle);
        if (!bytes) {
          ++failures;
          continue;
        }
        (*bytes)[0] = static_cast<std::byte>(t);
        std::this_thread::yield();
        if ((*bytes)[0] != static_cast<std::byte>(t)) ++failures;  // someone else wrote it
        if (!pool.Release(*handle)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pool.blocks_in_use(), 0u);
  EXPECT_LE(pool.high_water(), 4u);
}

}  // namespace
}  // namespace zcpipe::shm
