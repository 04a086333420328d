// Test helper: an 8-byte-aligned stand-in for an arena block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace zcpipe::testing {

struct Block {
  explicit Block(std::size_t size) : storage(size / 8) {}
  std::span<std::byte> span() { return std::as_writable_bytes(std::span(storage)); }
  std::vector<std::uint64_t> storage;
};

}  // namespace zcpipe::testing
