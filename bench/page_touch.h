// TouchPages: the receiver's token "use" of a payload, the same for every transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace zcpipe::bench {

inline constexpr std::size_t kTouchStride = 4096;

// Reads one byte per 4 KiB page of `bytes` (the first byte of each 4 KiB stride) and returns
// their sum; pass it to benchmark::DoNotOptimize. This is what makes a receiver map and fetch
// every page it was handed, without turning the benchmark into a memory-bandwidth test.
inline std::uint64_t TouchPages(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += kTouchStride) {
    sum += std::to_integer<std::uint8_t>(bytes[i]);
  }
  return sum;
}

}  // namespace zcpipe::bench
