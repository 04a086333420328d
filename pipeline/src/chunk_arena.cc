#include "chunk_arena.h"

#include <oneapi/tbb/task.h>

#include <algorithm>
#include <string>

#include "arena_error.h"
#include "import_error.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::detail {

std::uint32_t ChunkArena::BlockSize(std::uint64_t chunk_size, std::uint64_t chunks) {
  return static_cast<std::uint32_t>(
      shm::BlockSizeFor(chunks * chunk_size + stages::kFrameHeaderSize + stages::kChunkTagSize));
}

ArenaPlan ChunkArena::Plan(const JobConfig& config, unsigned threads, unsigned workers) {
  ArenaPlan plan;
  // A block holds a chunk, or a batch with room to seal it in place: 2 chunks' worth, for a
  // batch up to twice its CSV. Workers that seal as they parse (isolated, zero-copy, with an
  // output: FrameLedger) do it out of place, beside the batch in its block (the batch stays
  // intact for the Verifier), and find the chunk's ledger slot past the chunk: a chunk's worth
  // more, for a batch up to 1.5 times its CSV and its frame.
  const bool isolated = config.placement == Placement::kIsolated;
  plan.ledger = isolated && !config.output.empty() && config.transport == Transport::kZeroCopy;
  plan.chunk_room = BlockSize(config.chunk_size, 2);
  plan.batch_room = plan.chunk_room - stages::kFrameHeaderSize - stages::kChunkTagSize;
  const auto block_size =
      plan.ledger ? plan.chunk_room + BlockSize(config.chunk_size, 1) : plan.chunk_room;
  const auto blocks = static_cast<std::uint32_t>(config.arena_size / block_size);
  // Enough chunks in flight to keep every thread (or worker) busy and the sequencers fed, and
  // no more: memory then stays flat whatever the input's size, well inside the arena. A thread
  // needs its chunk plus one waiting; a worker also one queued and one waiting to be written.
  const std::size_t wanted = isolated ? 2 * workers + 2 : threads + 2;
  plan.in_flight = std::max<std::size_t>(1, std::min<std::size_t>((blocks - 2) / 3, wanted));
  // The blocks the job can hold at once are made resident up front, in 2 MiB pages where the
  // kernel can (shm::PoolOptions): a long run would otherwise grow its resident size as it
  // touches them, and each process that maps them would take a page fault and a page-table
  // entry per 4 KiB. In-process: one per chunk in flight, one more per thread inside a stage.
  // Isolated: per chunk in flight, its input block (from the low end) and its result block
  // (from the high end).
  const auto resident = static_cast<std::uint32_t>(
      std::min<std::size_t>(blocks, isolated ? plan.in_flight : plan.in_flight + threads));
  plan.pool = {.block_size = block_size,
               .block_count = blocks,
               .resident_blocks = resident,
               .resident_high_blocks = isolated ? resident : 0};
  // What the chunks behind the head leave free for it: all but the 3 blocks a chunk holds in a
  // run whose transform does not widen its rows (which the limiter sized in_flight for), at
  // most half the arena. A widening transform's chunks then queue behind the head, not on it.
  const auto spare =
      static_cast<std::int64_t>(blocks) - 3 * static_cast<std::int64_t>(plan.in_flight - 1);
  plan.reserve =
      static_cast<std::uint32_t>(std::clamp<std::int64_t>(spare, 1, std::max(1U, blocks / 2)));
  return plan;
}

ChunkArena::ChunkArena(shm::BlockPool& pool, const ArenaPlan& plan, bool isolated,
                       const JobErrors& errors, const std::atomic<bool>& failed,
                       const std::atomic<bool>& cancel)
    : pool_(pool),
      plan_(plan),
      isolated_(isolated),
      errors_(errors),
      failed_(failed),
      cancel_(cancel),
      gate_(pool, plan.reserve) {}

ArenaResult<shm::Handle> ChunkArena::Allocate(Stage stage, std::uint64_t seq, ChunkState* chunk) {
  // Isolated, workers write only the blocks of parse and seal results, and the coordinator
  // reads input into the others. From opposite ends of the arena, each worker maps (faults
  // into its own page tables) the few result blocks, not every block the job cycles through.
  const auto end = isolated_ && stage != Stage::kRead ? shm::BlockEnd::kHigh : shm::BlockEnd::kLow;
  std::optional<Clock::time_point> since;
  for (;;) {
    std::uint64_t epoch = 0;
    shm::Error refused{shm::Errc::kExhausted};
    if (auto block = gate_.TryTake(seq, end, &epoch, &refused)) return *block;
    if (IsOutOfSharedMemory(refused)) {  // no block in use frees memory: waiting would not help
      return tl::unexpected(
          NoBlock{errors_.Make(ErrorKind::kStage, stage, "out of shared memory",
                               ArenaError("reserve an arena block", pool_.block_size(), refused))});
    }
    if (auto wait = MayWait(stage, seq, chunk, chunk != nullptr ? chunk->refused_since : since);
        !wait) {
      return tl::unexpected(std::move(wait.error()));
    }
    oneapi::tbb::task::suspend([&](oneapi::tbb::task::suspend_point tag) {
      gate_.Park(seq, epoch, [tag] { oneapi::tbb::task::resume(tag); });
    });
  }
}

ArenaResult<void> ChunkArena::MayWait(Stage stage, std::uint64_t seq, const ChunkState* chunk,
                                      std::optional<Clock::time_point>& since) const {
  if (failed_.load() || cancel_.load()) return tl::unexpected(NoBlock{});
  if (!gate_.IsHead(seq)) return {};  // the head goes on, and gives its blocks back, first
  // A lone chunk in flight holds every block in use: while it parses or transforms (one
  // request at a time, unlike its seals) it would wait for itself.
  const bool alone = chunk != nullptr && plan_.in_flight == 1 && stage != Stage::kEncrypt;
  const auto now = Clock::now();
  if (!since) since = now;
  if (!alone && now - *since < std::chrono::seconds(10)) return {};
  const std::string who = chunk == nullptr
                              ? std::string("the job")
                              : errors_.input_name() + ":" + std::to_string(chunk->first_line) +
                                    ": chunk " + std::to_string(chunk->index);
  auto error = errors_.Make(
      ErrorKind::kStage, stage, "arena exhausted",
      who + " needs another arena block and none is free" + (alone ? "" : " for 10 s") + " (" +
          std::to_string(pool_.block_count()) + " blocks of " + std::to_string(pool_.block_size()) +
          " bytes, " + std::to_string(plan_.in_flight) +
          " chunk(s) in flight): raise the arena size or lower the chunk size");
  if (chunk != nullptr) {
    error.chunk = chunk->index;
    error.line = chunk->first_line;
    error.byte_offset = chunk->first_byte;
  }
  return tl::unexpected(NoBlock{std::move(error)});
}

void ChunkArena::ReleaseAll(ChunkState& chunk) {
  if (chunk.input.valid()) Release(chunk.input);
  for (const auto& batch : chunk.batches) Release(batch);
  for (auto& bytes : chunk.taken) taken_buffers_.Give(std::move(bytes));
  chunk.input = {};
  chunk.batches.clear();
  chunk.taken.clear();
}

std::span<std::byte> ChunkArena::BatchRoom(const shm::Handle& block) const {
  return Bytes(block).subspan(stages::kFrameHeaderSize, plan_.batch_room);
}

shm::Handle ChunkArena::HandleOf(const shm::Handle& block, std::span<const std::byte> part) const {
  const auto offset = static_cast<std::uint32_t>(part.data() - Bytes(block).data());
  return block.Sub(offset, static_cast<std::uint32_t>(part.size()));
}

}  // namespace zcpipe::detail
