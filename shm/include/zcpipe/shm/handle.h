// Handle: the small descriptor that travels between stages instead of the payload.
#pragma once

#include <cstdint>
#include <type_traits>

namespace zcpipe::shm {

// Names `length` bytes at `offset` inside block `block` of the pool in segment `segment`, as of
// the block's generation `generation`. Twenty bytes, trivially copyable, no pointers: it means
// the same thing in every process that maps the segment.
//
// Ownership of the bytes travels with the handle: exactly one party holds a live handle to a
// block at a time, and the pool owner bumps the block's generation when it takes the block
// back, so any copy kept by a former holder becomes stale and `Resolve` rejects it.
// Generation 0 is never issued: a zero-initialised Handle is "no handle".
struct Handle {
  std::uint32_t segment = 0;     // Segment::id() of the pool's segment
  std::uint32_t block = 0;       // block index in the pool
  std::uint32_t generation = 0;  // block generation when the handle was issued
  std::uint32_t offset = 0;      // first byte, relative to the block start
  std::uint32_t length = 0;      // number of bytes

  // The same block, narrowed to [offset, offset + length) of this handle's range.
  // REQUIRES: offset + length <= this->length (checked again by Resolve on the receiving side).
  [[nodiscard]] constexpr Handle Sub(std::uint32_t sub_offset, std::uint32_t sub_length) const {
    return {segment, block, generation, offset + sub_offset, sub_length};
  }
  [[nodiscard]] constexpr bool valid() const { return generation != 0; }

  friend constexpr bool operator==(const Handle&, const Handle&) = default;
};

static_assert(sizeof(Handle) == 20, "Handle is part of the ring slot layout (docs/shm-layout.md)");
static_assert(std::is_trivially_copyable_v<Handle> && std::is_standard_layout_v<Handle>);

}  // namespace zcpipe::shm
