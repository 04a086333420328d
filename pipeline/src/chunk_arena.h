// ChunkArena: the import's arena blocks, how many a job plans for, and who may take one when.
// Private to zcpipe::pipeline.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include <tl/expected.hpp>

#include "block_gate.h"
#include "chunk_state.h"
#include "worker_results.h"
#include "zcpipe/pipeline/events.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/shm/block_pool.h"

namespace zcpipe::detail {

class JobErrors;

// How a job uses its arena: the sizes it cuts chunks and batches to, the blocks it holds them
// in, how many chunks it keeps in flight, and the gate's reserve for the head.
struct ArenaPlan {
  // The most bytes a chunk (a record longer than chunk_size stretches it) and a batch may take,
  // whatever the placement: both then cut the same chunks and batches, hence the same frames.
  std::uint32_t chunk_room = 0, batch_room = 0;
  // Isolated with sealing and the zero-copy transport: each chunk's first frame index, for its
  // worker to seal with, is in a FrameLedger slot, the last 8 bytes of the chunk's input block.
  bool ledger = false;
  std::size_t in_flight = 1;
  shm::PoolOptions pool;      // pool.block_size: the block a chunk's input or a batch takes
  std::uint32_t reserve = 1;  // BlockGate's
};

// Why ChunkArena gave no block: the job already stopped (failed or cancelled: `error` is empty,
// there is nothing more to say), or `error`, which fails the job.
struct NoBlock {
  std::optional<ErrorEvent> error;
};
template <class T>
using ArenaResult = tl::expected<T, NoBlock>;

// The blocks of one job's arena as its chunks take and give them back. Every block passes a
// BlockGate (block_gate.h), so that chunks behind the head cannot starve it; a chunk refused a
// block waits (its task suspended, or its retry parked) until one is free, or fails the job
// "arena exhausted" when none can come (MayWait). Isolated, blocks workers write (results)
// come from the arena's high end and input blocks from its low end, so that each worker maps
// only the few result blocks.
//
// Ownership: borrows the pool, the job's errors and its stop flags, which must outlive it; owns
// the gate and the buffers chunks take results into (ChunkState::taken).
// Thread-safety: every member may be called from any thread.
class ChunkArena {
 public:
  // The plan for `config` run on `threads` task-arena threads (and `workers` worker processes
  // when isolated). REQUIRES: config.chunk_size > 0.
  [[nodiscard]] static ArenaPlan Plan(const JobConfig& config, unsigned threads, unsigned workers);
  // A block for `chunks` chunks' worth of bytes and a frame's overhead, in whole pages.
  [[nodiscard]] static std::uint32_t BlockSize(std::uint64_t chunk_size, std::uint64_t chunks);

  // REQUIRES: `pool` was made with plan.pool.
  ChunkArena(shm::BlockPool& pool, const ArenaPlan& plan, bool isolated, const JobErrors& errors,
             const std::atomic<bool>& failed, const std::atomic<bool>& cancel);
  ChunkArena(const ChunkArena&) = delete;
  ChunkArena& operator=(const ChunkArena&) = delete;

  // A block for a stage to write into for the chunk at stream position `seq` (`chunk`, once it
  // exists), as the gate allows; while refused, the calling task is suspended (its thread does
  // other work). REQUIRES: called inside a oneTBB task when it may have to wait.
  [[nodiscard]] ArenaResult<shm::Handle> Allocate(Stage stage, std::uint64_t seq,
                                                  ChunkState* chunk = nullptr);
  // Never waits: a block if the gate allows one now (`*epoch`: for Park).
  [[nodiscard]] std::optional<shm::Handle> TryTake(std::uint64_t seq, shm::BlockEnd end,
                                                   std::uint64_t* epoch) {
    return gate_.TryTake(seq, end, epoch);
  }
  // Whether a chunk refused a block should wait for one: not once the job failed or was
  // cancelled, nor when it is the head and none came in 10 s (`since`: since when it was
  // refused), or could not come (it is alone in flight): then "arena exhausted", naming it.
  [[nodiscard]] ArenaResult<void> MayWait(Stage stage, std::uint64_t seq, const ChunkState* chunk,
                                          std::optional<Clock::time_point>& since) const;
  // Runs `retry` on the gate's thread once a block may be free (BlockGate::Park).
  void Park(std::uint64_t seq, std::uint64_t epoch, std::function<void()> retry) {
    gate_.Park(seq, epoch, std::move(retry));
  }
  // REQUIRES: `handle` (part of) a block taken here, given back once.
  void Release(const shm::Handle& handle) { gate_.Release(handle); }
  // Gives back every block and taken buffer `chunk` holds.
  void ReleaseAll(ChunkState& chunk);
  // The writer is done with every chunk before `seq`.
  void Advance(std::uint64_t seq) { gate_.Advance(seq); }
  // The job failed: chunks waiting for a block end now.
  void WakeAll() { gate_.WakeAll(); }

  // REQUIRES: (part of) a block this job holds. The pool checks it against private generations
  // no worker can write (shm::BlockPool): a failure is a bug here, not a worker's doing. What a
  // worker wrote in a block is read only through worker_results.h.
  [[nodiscard]] std::span<std::byte> Bytes(const shm::Handle& handle) const {
    if (auto bytes = pool_.Resolve(handle)) return *bytes;
    std::abort();
  }
  // The part of a block a batch may use: room for the frame header before it and the tag after,
  // so that encryption can seal it in place. Isolated workers get as much (batch_room).
  [[nodiscard]] std::span<std::byte> BatchRoom(const shm::Handle& block) const;
  // `part` of `block`, as a handle.
  [[nodiscard]] shm::Handle HandleOf(const shm::Handle& block,
                                     std::span<const std::byte> part) const;

  [[nodiscard]] const ArenaPlan& plan() const { return plan_; }
  [[nodiscard]] TakenBuffers& taken_buffers() { return taken_buffers_; }
  [[nodiscard]] std::uint64_t bytes_in_use() const {
    return std::uint64_t{pool_.block_size()} * pool_.blocks_in_use();
  }

 private:
  shm::BlockPool& pool_;
  const ArenaPlan plan_;
  const bool isolated_;
  const JobErrors& errors_;
  const std::atomic<bool>& failed_;
  const std::atomic<bool>& cancel_;
  BlockGate gate_;  // every block taken from pool_, and given back, passes it
  TakenBuffers taken_buffers_;
};

}  // namespace zcpipe::detail
