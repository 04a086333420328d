// Which chunk may take an arena block now, and where the others wait without holding a thread.
// Private to zcpipe::pipeline.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "zcpipe/shm/block_pool.h"

namespace zcpipe::detail {

// Chunks are written in input order, and a chunk gives its blocks back only once written. A
// transform that widens its rows makes a chunk hold many blocks until then, so chunks behind
// the one the writer waits for (the head) could take every block while the head needs one
// more: each would wait for the others forever. The gate keeps that from happening:
//  - the head may take any free block;
//  - a chunk behind it only while more than `reserve` blocks are free;
//  - a chunk refused parks its retry instead of holding a thread (a TBB thread the head may
//    need, or the thread that delivers a worker's replies); the gate's own thread runs every
//    parked retry, head first, after each release, each move of the head, and every 100 ms.
// A head that still finds nothing free is a chunk the arena cannot hold (the caller decides
// when to give up: AllocateBlock, ProcessNext).
//
// Ownership: borrows the pool, which must outlive the gate. Thread-safety: every member may be
// called from any thread; retries run on the gate's thread, one at a time, with no lock held.
class BlockGate {
 public:
  // REQUIRES: reserve < pool.block_count().
  BlockGate(shm::BlockPool& pool, std::uint32_t reserve);
  ~BlockGate();  // runs the retries still parked once, then stops the thread
  BlockGate(const BlockGate&) = delete;
  BlockGate& operator=(const BlockGate&) = delete;

  // A block for the chunk with stream position `seq`, if the rule above allows it now. Never
  // waits. `*epoch` receives the count of events seen, for Park.
  // `*refused` (when not null) receives why the pool gave none, when it was asked (kSystem
  // ENOSPC: /dev/shm has no memory left for the block; waiting would not help).
  [[nodiscard]] std::optional<shm::Handle> TryTake(std::uint64_t seq, shm::BlockEnd end,
                                                   std::uint64_t* epoch = nullptr,
                                                   shm::Error* refused = nullptr);
  // Runs `retry` once on the gate's thread: after the next event, or at once when an event
  // happened since TryTake returned `epoch`. Retries run in `seq` order.
  void Park(std::uint64_t seq, std::uint64_t epoch, std::function<void()> retry);
  // REQUIRES: the caller took `handle` from this gate and gives it back once.
  void Release(const shm::Handle& handle);
  // The writer is done with every chunk before `seq`: it is the head now.
  void Advance(std::uint64_t seq);
  // Runs every parked retry (the job failed or was cancelled: each retry sees that and ends).
  void WakeAll();

  [[nodiscard]] bool IsHead(std::uint64_t seq) const;
  [[nodiscard]] std::uint32_t reserve() const { return reserve_; }

 private:
  void Event();  // REQUIRES: mutex_ held
  void Run();

  shm::BlockPool& pool_;
  const std::uint32_t reserve_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t head_ = 0;
  std::uint64_t epoch_ = 0;  // events (releases, head moves, WakeAll) so far
  bool missed_ = false;      // a retry parked after an event its round had already taken
  std::multimap<std::uint64_t, std::function<void()>> parked_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace zcpipe::detail
