// ChunkState: one chunk on its way through the import's graph, and the handles it holds.
// Private to zcpipe::pipeline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "journal.h"
#include "zcpipe/pipeline/events.h"
#include "zcpipe/shm/handle.h"
#include "zcpipe/stages/input_error.h"

namespace zcpipe::detail {

using Clock = std::chrono::steady_clock;

// Part of a chunk for a worker to parse: bytes [begin, end) of it, starting on `line`;
// `suspect` while narrowing down a poison chunk (one attempt each). With a transform whose
// output needs more than one block, the rows of the batch parsed from it from `first_row`
// (on line `first_row_line`) on: ProcessReply::next_row.
struct ByteRange {
  std::uint64_t begin = 0, end = 0, line = 1;
  bool suspect = false;
  std::uint32_t first_row = 0;
  std::uint64_t first_row_line = 0;
};

// One chunk on its way through the graph. Only handles into the arena travel; the payload
// stays where the read stage put it, and each stage writes its output into a fresh block.
// Ownership: the chunk holds its blocks (ChunkArena) until Write releases them (ReleaseAll).
// Thread-safety: one stage at a time; SealIsolated's replies share it under a lock.
struct ChunkState {
  std::uint64_t seq = 0;    // position in the graph's stream (sequencers order by it)
  shm::Handle input;        // the chunk's bytes; invalid for a message with no data
  std::uint64_t index = 0;  // the chunk's index in the input
  std::uint64_t first_line = 1;
  std::uint64_t first_byte = 0;
  JournalPoint next;                 // where the input continues after this chunk
  std::vector<shm::Handle> batches;  // after parse, then after transform; frames after encrypt
  // Isolated: what Write uses of batches[i], taken out of the arena and checked: the batch, or
  // with an output the authentic frame (worker_results.h). Workers can still write the arena.
  std::vector<std::vector<std::byte>> taken;
  std::uint64_t first_frame = 0;  // container index of batches[0]
  stages::InputErrors rejected;
  std::uint64_t rows_in = 0, rows_out = 0, rows_filtered = 0;
  std::optional<ErrorEvent> failure;  // a stage failed on this chunk: the job fails
  Clock::time_point stage_start;      // isolated stages: when the chunk's current stage began
  std::deque<ByteRange> todo;         // isolated stages: what is left to parse
  // Isolated stages with sealing: frames[i] is batches[i] sealed by the worker that made it
  // (in the same block), if the chunk's first frame index was known by then (FrameLedger).
  struct Frame {
    shm::Handle handle;  // invalid: not sealed
    std::uint64_t index = 0;
    std::vector<std::byte> bytes;  // taken out of the arena and authenticated under `index`
  };
  std::vector<Frame> frames;
  std::chrono::nanoseconds sealing{0};  // how long the workers took to seal them
  int worker = -1;                      // isolated stages: the worker that served it last
  int member = -1;                      // isolated stages: and the member (its index)
  // Since when the arena has refused this chunk a block while it was the head (BlockGate).
  std::optional<Clock::time_point> refused_since;
};
using Msg = std::shared_ptr<ChunkState>;

}  // namespace zcpipe::detail
