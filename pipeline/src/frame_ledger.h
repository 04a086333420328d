// The container index of each chunk's first frame, for isolated stages that seal in workers.
// Private to zcpipe::pipeline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>

namespace zcpipe::detail {

// A chunk's first frame index is known once every chunk before it has been parsed (a chunk
// makes one batch, or more when its batch outgrows the room). The ledger publishes it into a
// slot in the chunk's input block, in shared memory, the moment it is known, so that the worker
// parsing the chunk can seal its batches as it makes them. Workers never guess an index: the
// index is the AES-GCM nonce, and one index must never seal two different batches.
//
// A slot holds 0 until published, then the first frame index + 1 (a release store; readers
// load it with acquire: ReadSlot). Once Done(seq) returns, the chunk's slot is never written
// again, so its block may be released.
// Thread-safety: every call may come from any thread; one mutex, never shared with a worker.
class FrameLedger {
 public:
  // `first_frame`: the index of the frame of the chunk with seq 0 (0, or where a resumed
  // container continues).
  explicit FrameLedger(std::uint64_t first_frame) : next_frame_(first_frame) {}

  // Chunk `seq` is being parsed, and `slot` (8-aligned, in its input block) is where its first
  // frame index goes. Zeroes the slot, or fills it at once when the index is known.
  // REQUIRES: Track and Done once each per seq; Track before Done when called at all.
  void Track(std::uint64_t seq, std::span<std::byte, 8> slot);
  // Chunk `seq` made `batches` batches; 0 for a chunk that was not parsed (no input, a failed
  // job). Every seq from 0 up must be Done once for the indices after it to be known.
  void Done(std::uint64_t seq, std::uint64_t batches);

  // What a slot holds: the first frame index, or nullopt while it is not known.
  [[nodiscard]] static std::optional<std::uint64_t> ReadSlot(std::span<const std::byte, 8> slot);

 private:
  struct Chunk {
    std::byte* slot = nullptr;             // set by Track; not written once Done
    std::optional<std::uint64_t> batches;  // set by Done
  };
  void Advance();  // REQUIRES: mutex_ held

  std::mutex mutex_;
  std::uint64_t next_seq_ = 0;             // guarded by mutex_: the first chunk not Done in order
  std::uint64_t next_frame_;               // guarded by mutex_: its first frame index
  std::map<std::uint64_t, Chunk> chunks_;  // guarded by mutex_: from next_seq_ on
};

}  // namespace zcpipe::detail
