// What bench_handoff and bench_messages share around their transports: the timeout every
// blocking step gives up after, error text for a failed benchmark, and page-aligned buffers.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <benchmark/benchmark.h>

#include "zcpipe/shm/error.h"

namespace zcpipe::bench {

// Every blocking step gives up after this long: a wedged peer fails the benchmark, never hangs it.
inline constexpr std::chrono::nanoseconds kTimeout = std::chrono::seconds(10);
inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::byte kFillByte{0x5a};

inline void SkipWith(benchmark::State& state, const std::string& why) {
  state.SkipWithError(why.c_str());
}

inline std::string Describe(const char* what, const shm::Error& error) {
  return std::string(what) + ": " + shm::Describe(error);
}

inline std::string ErrnoText(int sys_errno) {
  char buffer[128];
  return ::strerror_r(sys_errno, buffer, sizeof buffer);  // the GNU one: returns the text
}

inline std::string Errno(const char* what, int sys_errno = errno) {
  return std::string(what) + ": " + ErrnoText(sys_errno);
}

inline std::size_t RoundUpToPage(std::size_t bytes) {
  return (bytes + kPageSize - 1) / kPageSize * kPageSize;
}

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<std::byte[], FreeDeleter>;

// A page-aligned private buffer (the copying transports' best case), filled with `fill`, which
// also faults its pages in before anything is timed.
inline Buffer MakeBuffer(std::size_t bytes, std::byte fill) {
  Buffer buffer(static_cast<std::byte*>(std::aligned_alloc(kPageSize, RoundUpToPage(bytes))));
  if (!buffer) throw std::bad_alloc();
  std::memset(buffer.get(), std::to_integer<int>(fill), bytes);
  return buffer;
}

}  // namespace zcpipe::bench
