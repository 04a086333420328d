// FrameLedger: a chunk's first frame index reaches its slot once every chunk before it is done,
// and never after the chunk itself is done.
#include "frame_ledger.h"

#include <gtest/gtest.h>

#include <array>
#include <optional>

namespace zcpipe::detail {
namespace {

struct Slots {
  std::array<std::array<std::byte, 8>, 8> bytes{};
  std::span<std::byte, 8> operator[](std::size_t i) { return bytes[i]; }
  std::optional<std::uint64_t> Read(std::size_t i) { return FrameLedger::ReadSlot(bytes[i]); }
};

TEST(FrameLedger, TheFirstChunkKnowsItsIndexAtOnce) {
  FrameLedger ledger(40);  // a resumed container with 40 frames
  Slots slots;
  slots.bytes[0].fill(std::byte{0xff});  // a block's old contents
  slots.bytes[1].fill(std::byte{0xff});
  ledger.Track(0, slots[0]);
  ledger.Track(1, slots[1]);
  EXPECT_EQ(slots.Read(0), 40u);
  EXPECT_EQ(slots.Read(1), std::nullopt) << "Track zeroes a slot it cannot fill yet";
}

TEST(FrameLedger, AnIndexIsPublishedWhenEveryChunkBeforeItIsDone) {
  FrameLedger ledger(0);
  Slots slots;
  for (std::uint64_t seq = 0; seq < 4; ++seq) ledger.Track(seq, slots[seq]);
  ledger.Done(2, 1);  // out of order: nothing is known beyond chunk 0 yet
  EXPECT_EQ(slots.Read(1), std::nullopt);
  EXPECT_EQ(slots.Read(3), std::nullopt);
  ledger.Done(0, 2);  // chunk 0 made two batches: chunk 1 starts at frame 2
  EXPECT_EQ(slots.Read(1), 2u);
  EXPECT_EQ(slots.Read(3), std::nullopt);
  ledger.Done(1, 1);  // chunks 1 and 2 are done: chunk 3 starts at 2 + 1 + 1
  EXPECT_EQ(slots.Read(3), 4u);
  ledger.Track(4, slots[4]);
  ledger.Done(3, 0);  // a chunk without batches (only rejected rows)
  EXPECT_EQ(slots.Read(4), 4u);
}

TEST(FrameLedger, ADoneChunksSlotIsNeverWrittenAgain) {
  FrameLedger ledger(0);
  Slots slots;
  ledger.Track(0, slots[0]);
  ledger.Track(1, slots[1]);
  ledger.Done(1, 1);  // done before its index was known
  std::array<std::byte, 8> reused;
  reused.fill(std::byte{0x5a});
  slots.bytes[1] = reused;  // its block released and used again
  ledger.Done(0, 1);
  EXPECT_EQ(slots.bytes[1], reused);
}

TEST(FrameLedger, ChunksThatWereNeverTrackedStillCount) {
  FrameLedger ledger(7);
  Slots slots;
  ledger.Track(1, slots[1]);
  ledger.Done(0, 0);  // no input: never parsed, never tracked
  EXPECT_EQ(slots.Read(1), 7u);
}

}  // namespace
}  // namespace zcpipe::detail
