#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bit>
#include <climits>
#include <cstring>
#include <ctime>

#include "zcpipe/shm/detail/ring_layout.h"
#include "zcpipe/shm/process.h"

namespace zcpipe::shm::detail {
namespace {

bool Aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kCacheLine == 0; }

std::atomic<std::uint64_t>& SeqAt(std::byte* slots, std::uint64_t position, const RingHeader& h) {
  return reinterpret_cast<SlotSeq*>(slots + (position & (h.capacity - 1)) * h.slot_size)->seq;
}

// Claims `endpoint` for this process unless a live process other than us holds it.
Status Claim(EndpointWord& endpoint) {
  const std::uint64_t self = ProcessIdentity::Self().Pack();
  std::uint64_t current = endpoint.owner.load(std::memory_order_acquire);
  for (;;) {
    if (current != 0 && current != kDetached && current != self &&
        ProcessIdentity::Unpack(current).Alive()) {
      return Fail(Errc::kBusy);
    }
    if (endpoint.owner.compare_exchange_weak(current, self, std::memory_order_acq_rel)) return {};
  }
}

// The producer's next position: skip slots a dead predecessor published (seq == p + 1) or
// that were published and consumed (seq == p + capacity) before it could store its position.
// Stops at a free slot (seq == p) or a full ring (seq == p + 1 - capacity).
Result<std::uint64_t> RecoverProducer(std::byte* slots, const RingHeader& h, std::uint64_t p) {
  for (std::uint32_t step = 0; step <= h.capacity; ++step) {
    const std::uint64_t seq = SeqAt(slots, p, h).load(std::memory_order_acquire);
    if (seq == p || seq + h.capacity == p + 1) return p;
    if (seq != p + 1 && seq != p + h.capacity) break;
    ++p;
  }
  return Fail(Errc::kBadLayout);
}

// The consumer's next position: skip slots a dead predecessor consumed before it could store
// its position (seq == c + capacity), which the producer may since have written again for its
// next lap (seq == c + capacity + 1). Stops at a published (c + 1) or empty (c) slot.
Result<std::uint64_t> RecoverConsumer(std::byte* slots, const RingHeader& h, std::uint64_t c) {
  for (std::uint32_t step = 0; step <= h.capacity; ++step) {
    const std::uint64_t seq = SeqAt(slots, c, h).load(std::memory_order_acquire);
    if (seq == c || seq == c + 1) return c;
    if (seq != c + h.capacity && seq != c + h.capacity + 1) break;
    ++c;
  }
  return Fail(Errc::kBadLayout);
}

}  // namespace

Status FormatRing(std::span<std::byte> memory, std::uint32_t capacity, std::uint32_t value_size) {
  const std::size_t slot_size = SlotSize(value_size);
  if (capacity < 2 || !std::has_single_bit(capacity) || !Aligned(memory.data()) ||
      memory.size() < sizeof(RingControl) + std::size_t{capacity} * slot_size) {
    return Fail(Errc::kInvalidArgument);
  }
  auto* control = new (memory.data()) RingControl{};
  control->header = {kRingMagic, kRingVersion, capacity, static_cast<std::uint32_t>(slot_size),
                     value_size};
  std::byte* slots = memory.data() + sizeof(RingControl);
  for (std::uint32_t i = 0; i < capacity; ++i) {
    new (slots + std::size_t{i} * slot_size) SlotSeq{i};
  }
  std::atomic_thread_fence(std::memory_order_release);
  return {};
}

Result<AttachedEndpoint> AttachEndpoint(std::span<std::byte> memory, std::uint32_t value_size,
                                        bool producer) {
  if (!Aligned(memory.data()) || memory.size() < sizeof(RingControl)) {
    return Fail(Errc::kInvalidArgument);
  }
  auto* control = reinterpret_cast<RingControl*>(memory.data());
  RingHeader h;  // a private copy: what is checked is what is used
  std::memcpy(&h, &control->header, sizeof h);
  if (h.magic != kRingMagic || h.version != kRingVersion || h.value_size != value_size ||
      h.slot_size != SlotSize(value_size) || h.capacity < 2 || !std::has_single_bit(h.capacity) ||
      memory.size() < sizeof(RingControl) + std::size_t{h.capacity} * h.slot_size) {
    return Fail(Errc::kBadLayout);
  }
  EndpointWord& endpoint = producer ? control->producer : control->consumer;
  if (auto claimed = Claim(endpoint); !claimed) return tl::unexpected(claimed.error());
  std::byte* slots = memory.data() + sizeof(RingControl);
  const std::uint64_t stored = endpoint.position.load(std::memory_order_acquire);
  auto position = producer ? RecoverProducer(slots, h, stored) : RecoverConsumer(slots, h, stored);
  if (!position) {
    DetachEndpoint(endpoint);
    return tl::unexpected(position.error());
  }
  endpoint.position.store(*position, std::memory_order_release);
  return AttachedEndpoint{*position, h.capacity};
}

void DetachEndpoint(EndpointWord& endpoint) {
  std::uint64_t self = ProcessIdentity::Self().Pack();
  endpoint.owner.compare_exchange_strong(self, kDetached, std::memory_order_acq_rel);
}

PeerState PeerOf(const EndpointWord& peer) {
  const std::uint64_t owner = peer.owner.load(std::memory_order_acquire);
  if (owner == 0) return PeerState::kNotAttached;
  if (owner == kDetached) return PeerState::kGone;
  return ProcessIdentity::Unpack(owner).Alive() ? PeerState::kAlive : PeerState::kGone;
}

void FutexWake(std::atomic<std::uint32_t>& word) {
  // Not FUTEX_PRIVATE_FLAG: the word is shared between processes.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

void FutexWait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout) {
  if (timeout <= std::chrono::nanoseconds::zero()) return;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec relative{static_cast<time_t>(seconds.count()),
                          static_cast<long>((timeout - seconds).count())};
  // Returns at once if `word` no longer holds `expected`; EINTR and ETIMEDOUT are just returns.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
            nullptr, 0);
}

}  // namespace zcpipe::shm::detail
