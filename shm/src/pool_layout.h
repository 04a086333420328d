// The payload of a segment of kind kBlockPool. Byte-level description: docs/shm-layout.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "segment_layout.h"
#include "zcpipe/shm/error.h"
#include "zcpipe/shm/handle.h"

namespace zcpipe::shm::detail {

// At the start of the payload (segment offset 128). Offsets are from the segment's first byte.
struct PoolHeader {
  std::uint32_t block_size;
  std::uint32_t block_count;
  std::uint64_t generations_offset;  // std::atomic<uint32_t>[block_count]
  std::uint64_t blocks_offset;       // page-aligned; block i at blocks_offset + i * block_size
};
static_assert(offsetof(PoolHeader, generations_offset) == 8);
static_assert(offsetof(PoolHeader, blocks_offset) == 16);
static_assert(sizeof(PoolHeader) == 24);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

struct PoolGeometry {
  std::uint64_t generations_offset;
  std::uint64_t blocks_offset;
  std::uint64_t total_size;  // of the whole segment
};

// Where things go in a pool segment whose payload starts at `payload_offset`.
constexpr PoolGeometry Geometry(std::uint64_t payload_offset, std::uint32_t block_size,
                                std::uint32_t block_count) {
  const std::uint64_t generations = RoundUp(payload_offset + sizeof(PoolHeader), 64);
  const std::uint64_t blocks = RoundUp(generations + 4ull * block_count, kPageSize);
  return {generations, blocks, blocks + std::uint64_t{block_size} * block_count};
}

// The worked example in docs/shm-layout.md: 4 blocks of 4 KiB.
static_assert(Geometry(128, 4096, 4).generations_offset == 192);
static_assert(Geometry(128, 4096, 4).blocks_offset == 4096);
static_assert(Geometry(128, 4096, 4).total_size == 5ull * 4096);

// What both BlockPool and PoolView need to resolve a handle: a read-only description of the
// pool plus its generation words. Never dereferences anything before the checks pass.
struct PoolMap {
  std::byte* base = nullptr;
  std::uint32_t segment_id = 0;
  std::uint32_t block_size = 0;
  std::uint32_t block_count = 0;
  std::atomic<std::uint32_t>* generations = nullptr;
  std::byte* blocks = nullptr;

  [[nodiscard]] Result<std::span<std::byte>> Resolve(const Handle& handle) const {
    if (handle.segment != segment_id) return Fail(Errc::kWrongSegment);
    if (handle.block >= block_count) return Fail(Errc::kBlockOutOfRange);
    if (handle.generation == 0 ||
        handle.generation != generations[handle.block].load(std::memory_order_acquire)) {
      return Fail(Errc::kStaleHandle);
    }
    if (std::uint64_t{handle.offset} + handle.length > block_size) return Fail(Errc::kOutOfBounds);
    return std::span<std::byte>(blocks + std::size_t{handle.block} * block_size + handle.offset,
                                handle.length);
  }
};

}  // namespace zcpipe::shm::detail
