// Taking what a worker wrote into an arena block into the coordinator's private memory, and
// checking it there. Private to zcpipe::pipeline; the rules are in docs/shm-layout.md ("Trust").
//
// A worker maps every block read-write, and may keep writing one after it answered: the
// coordinator never checks bytes in shared memory and then uses them again. Each function
// here copies first, checks the copy, and hands back the copy, which is all the caller uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "import_stages.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::detail {

// A kProcess result, taken: the reply, and what the caller keeps of the block.
struct TakenProcess {
  ProcessReply reply;
  std::vector<std::byte> batch;  // with keep_batch: the batch, which BatchView opens
  std::vector<std::byte> frame;  // with a sealer and a sealed frame: the frame, authentic
};

// What the coordinator asked of a kProcess request, to check its answer against.
struct ProcessAsked {
  std::uint64_t length = 0;     // bytes given to parse
  std::uint32_t first_row = 0;  // the request's first row (a continuation when not 0)
  const stages::ChunkSealer* sealer = nullptr;  // checks a frame; null: the job has no output
  bool keep_batch = false;                      // copy the batch out (no output: it is used)
};

// Takes the result the worker returned in `block`: its `size` bytes from `at` on. nullopt when
// anything does not add up: the result's bounds, the reply (ReadReply), the counts against
// what was asked, the batch (BatchView refuses it) or the frame (ChunkSealer::Check does).
[[nodiscard]] std::optional<TakenProcess> TakeProcessResult(std::span<const std::byte> block,
                                                            std::uint64_t at, std::uint64_t size,
                                                            const ProcessAsked& asked);

// A frame a worker sealed as chunk `index`, copied out and authenticated; nullopt if it is not.
[[nodiscard]] std::optional<std::vector<std::byte>> TakeFrame(const stages::ChunkSealer& sealer,
                                                              std::uint64_t index,
                                                              std::span<const std::byte> frame);

}  // namespace zcpipe::detail
