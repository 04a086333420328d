// The shared-memory layout of a Ring, and the non-template slow paths behind ring.h.
// Byte-level description: docs/shm-layout.md ("Ring"). Not part of the public API.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "zcpipe/shm/error.h"

namespace zcpipe::shm {

// Who is on the other end of a ring.
enum class PeerState : std::uint8_t {
  kNotAttached,  // no process has claimed that end yet
  kAlive,        // claimed by a process that is running
  kGone,         // the claimant died, or detached
};

// How a blocked Push/Pop waits: spin for `spin_for` (lowest latency, burns a core), then sleep
// on a futex; every `peer_check` while asleep, look whether the peer is still alive (a peer that
// detaches wakes the sleeper, which sees it at once). Spinning is
// adaptive per endpoint: after a wait that outlasted `spin_for` the next one sleeps at once, and
// a wait that `spin_for` would have covered turns spinning back on. A side that waits milliseconds
// between items (a coordinator on a host saturated by its workers) then stops burning the core
// those workers need, while a ping-pong of microseconds keeps its lowest latency.
struct WaitPolicy {
  std::chrono::nanoseconds spin_for{std::chrono::microseconds(20)};
  std::chrono::nanoseconds peer_check{std::chrono::milliseconds(20)};
};

namespace detail {

// 64 bytes on x86-64 and common ARM cores; std::hardware_destructive_interference_size is not
// stable across compilers, and this value is part of the layout, so it is fixed here.
inline constexpr std::size_t kCacheLine = 64;

inline constexpr std::uint64_t kRingMagic = 0x31474E49'5250435A;  // "ZCPRING1" in memory order
inline constexpr std::uint32_t kRingVersion = 1;
// Owner word value of an endpoint that detached cleanly (a real identity never has pid ~0).
inline constexpr std::uint64_t kDetached = ~std::uint64_t{0};

struct RingHeader {  // written once by FormatRing, read-only afterwards
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t capacity;    // slots; a power of two
  std::uint32_t slot_size;   // bytes between slots; a multiple of kCacheLine
  std::uint32_t value_size;  // sizeof(T), checked by every Attach
};

// One per endpoint, written only by that endpoint: padded so that the producer's and the
// consumer's stores never invalidate each other's cache line.
struct alignas(kCacheLine) EndpointWord {
  std::atomic<std::uint64_t> owner;     // ProcessIdentity::Pack() of the claimant, 0, kDetached
  std::atomic<std::uint64_t> position;  // next slot sequence to write (producer) / read (consumer)
};

// A futex-backed event for one direction. The sleeper raises `sleeping`, the other side bumps
// `epoch` and wakes it only when `sleeping` is set, so a non-sleeping peer costs no syscall.
// Padded: it is written only when someone sleeps, and read on every operation.
struct alignas(kCacheLine) WakeWord {
  std::atomic<std::uint32_t> epoch;
  std::atomic<std::uint32_t> sleeping;
};

struct RingControl {
  alignas(kCacheLine) RingHeader header;
  EndpointWord producer;
  EndpointWord consumer;
  WakeWord not_empty;  // the consumer sleeps here
  WakeWord not_full;   // the producer sleeps here
};

// A slot: the sequence word first, the value right after it, in one cache line, so a handoff
// moves exactly one line between the two cores.
struct SlotSeq {
  std::atomic<std::uint64_t> seq;
};
inline constexpr std::size_t kSlotValueOffset = sizeof(SlotSeq);

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "shared-memory atomics must be lock-free to be address-free across processes");
static_assert(sizeof(RingHeader) == 24);
static_assert(sizeof(EndpointWord) == kCacheLine && sizeof(WakeWord) == kCacheLine);
static_assert(offsetof(RingControl, producer) == 1 * kCacheLine);
static_assert(offsetof(RingControl, consumer) == 2 * kCacheLine);
static_assert(offsetof(RingControl, not_empty) == 3 * kCacheLine);
static_assert(offsetof(RingControl, not_full) == 4 * kCacheLine);
static_assert(sizeof(RingControl) == 5 * kCacheLine);

constexpr std::size_t SlotSize(std::size_t value_size) {
  return (kSlotValueOffset + value_size + kCacheLine - 1) / kCacheLine * kCacheLine;
}

static_assert(SlotSize(20) == kCacheLine, "a Handle slot is one cache line");
static_assert(SlotSize(56) == kCacheLine && SlotSize(57) == 2 * kCacheLine);

// Slow paths (ring.cc).
Status FormatRing(std::span<std::byte> memory, std::uint32_t capacity, std::uint32_t value_size);
// Validates the header and claims `producer` or `consumer` for this process, then recovers the
// endpoint's position from the slot sequences (a predecessor may have died between publishing
// a slot and storing its position). Returns the position to continue from and the capacity it
// checked: the peer can rewrite the header, so the endpoint keeps this copy, never re-reads it.
struct AttachedEndpoint {
  std::uint64_t position = 0;
  std::uint32_t capacity = 0;
};
Result<AttachedEndpoint> AttachEndpoint(std::span<std::byte> memory, std::uint32_t value_size,
                                        bool producer);
void DetachEndpoint(EndpointWord& endpoint);
PeerState PeerOf(const EndpointWord& peer);

void FutexWake(std::atomic<std::uint32_t>& word);
void FutexWait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Called after making the condition a sleeper on `wake` waits for true.
inline void Notify(WakeWord& wake) {
  // Pairs with the fence in WaitUntil: either the sleeper sees our write, or we see it sleeping.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (wake.sleeping.load(std::memory_order_relaxed) != 0) {
    wake.epoch.fetch_add(1, std::memory_order_release);
    FutexWake(wake.epoch);
  }
}

// Waits until `ready()` is true (ok), `timeout` passes (kTimeout), or the `peer` endpoint is
// gone while `ready()` is still false (kPeerGone). `spin` is the endpoint's spin budget (see
// WaitPolicy): read for this wait, and set for the next one from how long this one took.
template <class Ready>
Status WaitUntil(WakeWord& wake, const EndpointWord& peer, const WaitPolicy& policy,
                 std::chrono::nanoseconds& spin, std::chrono::nanoseconds timeout, Ready&& ready) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const auto spin_until = start + spin;
  auto next_peer_check = start + policy.peer_check;
  const bool spinning = spin > std::chrono::nanoseconds::zero();
  bool slept = false;
  // A wait that never slept ended within its spin budget: no clock read on the fast path.
  const auto finish = [&](Status status) {
    const bool spin_would_do = !slept || Clock::now() - start <= policy.spin_for;
    spin = spin_would_do ? policy.spin_for : std::chrono::nanoseconds::zero();
    return status;
  };
  for (std::uint32_t i = 1;; ++i) {
    if (ready()) return finish({});
    if (spinning && (i & 63) != 0) {  // read the clock every 64 rounds only
      CpuRelax();
      continue;
    }
    auto now = Clock::now();
    // A peer that detached says so in its word (and woke us): no need to wait for the check.
    if (now >= next_peer_check || peer.owner.load(std::memory_order_acquire) == kDetached) {
      if (PeerOf(peer) == PeerState::kGone) {
        return finish(ready() ? Status{} : Fail(Errc::kPeerGone));
      }
      next_peer_check = now + policy.peer_check;
    }
    if (now >= deadline) return finish(ready() ? Status{} : Fail(Errc::kTimeout));
    if (now < spin_until) continue;

    slept = true;
    wake.sleeping.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with Notify
    const std::uint32_t key = wake.epoch.load(std::memory_order_acquire);
    if (!ready()) FutexWait(wake.epoch, key, std::min(deadline, next_peer_check) - now);
    wake.sleeping.store(0, std::memory_order_relaxed);
  }
}

}  // namespace detail
}  // namespace zcpipe::shm
