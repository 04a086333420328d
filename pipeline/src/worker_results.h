// Taking what a worker wrote into an arena block into the coordinator's private memory, and
// checking it there. Private to zcpipe::pipeline; the rules are in docs/shm-layout.md ("Trust").
//
// A worker maps every block read-write, and may keep writing one after it answered: the
// coordinator never checks bytes in shared memory and then uses them again. Each function
// here copies first, checks the copy, and hands back the copy, which is all the caller uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "import_stages.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::detail {

// Buffers for what is taken, kept for reuse: a fresh one per frame would be fresh pages, a
// page fault per 4 KiB (a fifth of an isolated import's time). Thread-safe.
class TakenBuffers {
 public:
  // An empty buffer, with the capacity of one given back if there is one.
  [[nodiscard]] std::vector<std::byte> Take();
  void Give(std::vector<std::byte> buffer);  // keeps at most kKept

 private:
  static constexpr std::size_t kKept = 64;
  std::mutex mutex_;
  std::vector<std::vector<std::byte>> free_;
};

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
  TakenBuffers* buffers = nullptr;              // where the copies' memory comes from
};

// Takes the result the worker returned in `block`: its `size` bytes from `at` on. nullopt when
// anything does not add up: the result's bounds, the reply (ReadReply), the counts against
// what was asked, the frame (TakeFrame refuses it) or, without one, the batch (BatchView does).
[[nodiscard]] std::optional<TakenProcess> TakeProcessResult(std::span<const std::byte> block,
                                                            std::uint64_t at, std::uint64_t size,
                                                            const ProcessAsked& asked);

// A frame a worker sealed as chunk `index`, copied out, authenticated, and holding a batch
// BatchView opens; nullopt if it is not.
[[nodiscard]] std::optional<std::vector<std::byte>> TakeFrame(const stages::ChunkSealer& sealer,
                                                              std::uint64_t index,
                                                              std::span<const std::byte> frame,
                                                              TakenBuffers& buffers);

}  // namespace zcpipe::detail
