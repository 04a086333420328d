// The header at offset 0 of every segment. Byte-level description: docs/shm-layout.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zcpipe::shm::detail {

inline constexpr std::uint64_t kSegmentMagic = 0x31304745'5350435A;  // "ZCPSEG01" in memory order
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::uint32_t kSegmentNotReady = 0;
inline constexpr std::uint32_t kSegmentReady = 1;

// Where Linux keeps POSIX shared-memory objects (and so where Boost.Interprocess puts them).
inline constexpr const char* kShmDir = "/dev/shm";

inline constexpr std::size_t kPageSize = 4096;
// A segment of at least this size is mapped at a multiple of it (Segment::base): x86-64's 2 MiB
// page, which BlockPool's resident blocks are backed with where the kernel can.
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

constexpr std::uint64_t RoundUp(std::uint64_t value, std::uint64_t to) {
  return (value + to - 1) / to * to;
}

struct SegmentHeader {
  std::uint64_t magic{};
  std::uint32_t version{};
  std::uint32_t header_size{};          // sizeof(SegmentHeader): where the payload starts
  std::uint64_t total_size{};           // header + payload, as mapped
  std::uint32_t id{};                   // random, nonzero
  std::uint32_t kind{};                 // SegmentKind
  std::uint64_t creator{};              // ProcessIdentity::Pack() of the creating process
  std::atomic<std::uint32_t> state{0};  // kSegmentNotReady until the creator finished the payload
  std::uint8_t reserved[84]{};          // zero
};

static_assert(offsetof(SegmentHeader, version) == 8);
static_assert(offsetof(SegmentHeader, header_size) == 12);
static_assert(offsetof(SegmentHeader, total_size) == 16);
static_assert(offsetof(SegmentHeader, id) == 24);
static_assert(offsetof(SegmentHeader, kind) == 28);
static_assert(offsetof(SegmentHeader, creator) == 32);
static_assert(offsetof(SegmentHeader, state) == 40);
static_assert(sizeof(SegmentHeader) == 128, "payload starts at offset 128 (docs/shm-layout.md)");

}  // namespace zcpipe::shm::detail
