// BlockPool and PoolView: fixed-size blocks carved out of one shared-memory segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "zcpipe/shm/error.h"
#include "zcpipe/shm/handle.h"

namespace zcpipe::shm {

// The page size: a block is a whole number of pages (PoolOptions::block_size).
inline constexpr std::uint32_t kBlockAlignment = 4096;

// The smallest block size (a multiple of kBlockAlignment) that holds `bytes`.
constexpr std::uint64_t BlockSizeFor(std::uint64_t bytes) {
  return (bytes + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
}

struct PoolOptions {
  std::uint32_t block_size = 1u << 20;  // bytes; REQUIRES a multiple of kBlockAlignment
  std::uint32_t block_count = 64;       // REQUIRES > 0
  // How many blocks, the first ones Allocate(kLow) hands out, and the first ones
  // Allocate(kHigh) hands out, have their pages made resident at creation: a caller that knows
  // its working set claims it up front, so that its page faults do not land mid-run and its
  // resident size does not drift as blocks are reused. Resident blocks are backed by 2 MiB
  // pages where the kernel can (MADV_COLLAPSE, Linux 6.1; the 2 MiB around them too), which
  // every process then maps with one page-table entry per 2 MiB instead of 512: page-table
  // work, not copying, is most of what a block costs a peer that touches it. Else in 4 KiB
  // pages (MADV_POPULATE_WRITE; nothing before Linux 5.14).
  // REQUIRES resident_blocks + resident_high_blocks <= block_count.
  std::uint32_t resident_blocks = 0;
  std::uint32_t resident_high_blocks = 0;

  friend bool operator==(const PoolOptions&, const PoolOptions&) = default;
};

// Which end of the arena Allocate takes a free block from: the lowest-numbered free block or
// the highest. Blocks in use then stay packed at each end, whatever the order of releases; a
// caller that takes two kinds of blocks from opposite ends keeps each kind in its own few
// blocks, so that a peer that writes only one kind maps (page-faults) only those pages.
enum class BlockEnd { kLow, kHigh };

// The allocating side of an arena: creates a segment of kind kBlockPool holding `block_count`
// page-aligned blocks of `block_size` bytes, and is its only allocator. Peers in other
// processes attach a PoolView by `name()` and resolve handles; they never allocate, and they
// never take a lock (the free list lives in this process's private memory).
//
// `Allocate` hands out a Handle to a whole block (offset 0, length block_size); the holder owns
// that block until it is given back with `Release`, which bumps the block's generation in
// shared memory so that every copy of the old handle turns stale. Exhaustion is an error value
// (kExhausted), never a crash or a wait.
//
// Trust: peers map the whole segment read-write, generation words included. What decides this
// process's bounds (geometry, generations, the free list) lives in its private memory: Resolve
// and Release never read a word a peer can write, so nothing a peer does can make them fail
// for a handle this pool handed out (and did not take back). The shared generation words are
// only this pool's announcement to peers. A block's bytes stay writable by every peer.
//
// Thread-safety: all members are safe to call concurrently from threads of the owning
// process (the free list is guarded by a process-private mutex; Resolve takes no lock).
class BlockPool {
 public:
  // A pool larger than /dev/shm has free is refused here (Segment::Create). Each block's memory
  // is allocated when the block is first handed out (the resident ones at creation), so that
  // the pool costs the memory its blocks in use need, and no process ever touches a page of it
  // that /dev/shm cannot back (which would be SIGBUS).
  // Errors: kInvalidArgument for options that break their REQUIRES, kSystem when the resident
  // blocks cannot be had (ENOSPC: /dev/shm is full), else as Segment::Create.
  [[nodiscard]] static Result<BlockPool> Create(const PoolOptions& options);

  BlockPool(BlockPool&&) noexcept;
  BlockPool& operator=(BlockPool&&) noexcept;
  ~BlockPool();

  // Errors: kExhausted when every block is in use; kSystem (ENOSPC) when the block is handed
  // out for the first time and /dev/shm has no memory left for it (the block stays free).
  [[nodiscard]] Result<Handle> Allocate(BlockEnd end = BlockEnd::kLow);
  // REQUIRES: `handle` came from Allocate() (or Sub() of it) and was not released yet.
  // Errors: kStaleHandle / kWrongSegment / kBlockOutOfRange (forged), kNotOwned (double release).
  [[nodiscard]] Status Release(const Handle& handle);
  // The bytes `handle` names, after checking segment, block, generation and bounds against this
  // process's private copy (never the shared words: see the class comment).
  [[nodiscard]] Result<std::span<std::byte>> Resolve(const Handle& handle) const;

  [[nodiscard]] const std::string& name() const;  // for PoolView::Attach in another process
  [[nodiscard]] std::uint32_t segment_id() const;
  [[nodiscard]] std::uint32_t block_size() const;
  [[nodiscard]] std::uint32_t block_count() const;
  [[nodiscard]] std::uint32_t blocks_in_use() const;
  [[nodiscard]] std::uint32_t high_water() const;  // most blocks ever in use at once

 private:
  struct Impl;
  explicit BlockPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A peer's read-write view of a BlockPool created by another process: resolves handles to the
// bytes they name, in place. It cannot allocate or release.
//
// Thread-safety: Resolve and Populate are safe from any thread.
class PoolView {
 public:
  // Errors: as Segment::Attach, plus kBadLayout if the segment is not a block pool.
  [[nodiscard]] static Result<PoolView> Attach(std::string_view name);

  PoolView(PoolView&&) noexcept;
  PoolView& operator=(PoolView&&) noexcept;
  ~PoolView();

  // Never touches memory outside the segment, whatever the handle holds.
  // Errors: kWrongSegment, kBlockOutOfRange, kStaleHandle, kOutOfBounds.
  [[nodiscard]] Result<std::span<std::byte>> Resolve(const Handle& handle) const;
  // The first call for a block makes all its pages resident and writable in this process's page
  // tables, in one system call (MADV_POPULATE_WRITE), where writing it would page-fault once
  // per 4 KiB page: for a peer about to write a result there. Later calls for that block return
  // at once. Best effort: where the kernel cannot (before 5.14, /dev/shm full), the pages still
  // come on first touch. Does nothing for a handle Resolve refuses.
  void Populate(const Handle& handle);
  [[nodiscard]] std::uint32_t segment_id() const;
  [[nodiscard]] std::uint32_t block_size() const;
  [[nodiscard]] std::uint32_t block_count() const;

 private:
  struct Impl;
  explicit PoolView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zcpipe::shm
