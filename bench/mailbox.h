// Mailbox: the physical reference of the shared-memory transports. One sequence word per
// direction, each on its own cache line, waited on by spinning or with a futex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "transport_support.h"
#include "zcpipe/shm/detail/ring_layout.h"

namespace zcpipe::bench {

enum class Wait { kSpin, kSleep };

struct alignas(shm::detail::kCacheLine) MailboxWord {
  std::atomic<std::uint32_t> seq{0};
};
struct Mailbox {
  MailboxWord to_peer;
  MailboxWord to_parent;
};
static_assert(sizeof(Mailbox) == 2 * shm::detail::kCacheLine);
inline constexpr std::uint32_t kMailboxStop = UINT32_MAX;

inline void Post(std::atomic<std::uint32_t>& word, std::uint32_t value, Wait wait) {
  word.store(value, std::memory_order_release);
  if (wait == Wait::kSleep) shm::detail::FutexWake(word);
}

// Waits until `word` no longer holds `previous` and returns what it holds; nullopt after kTimeout.
inline std::optional<std::uint32_t> AwaitChange(std::atomic<std::uint32_t>& word,
                                                std::uint32_t previous, Wait wait) {
  using Clock = std::chrono::steady_clock;
  std::uint32_t value = word.load(std::memory_order_acquire);
  if (value != previous) return value;
  const auto deadline = Clock::now() + kTimeout;
  if (wait == Wait::kSpin) {
    for (std::uint32_t i = 1;; ++i) {
      shm::detail::CpuRelax();
      value = word.load(std::memory_order_acquire);
      if (value != previous) return value;
      if ((i & 1023) == 0 && Clock::now() >= deadline) return std::nullopt;
    }
  }
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    shm::detail::FutexWait(word, previous, deadline - now);
    value = word.load(std::memory_order_acquire);
    if (value != previous) return value;
  }
}

}  // namespace zcpipe::bench
