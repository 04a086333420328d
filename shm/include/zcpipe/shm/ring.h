// Ring: a lock-free single-producer / single-consumer queue of small values in shared memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "zcpipe/shm/detail/ring_layout.h"
#include "zcpipe/shm/error.h"

namespace zcpipe::shm {

// A bounded queue of `T` (typically a Handle, or a message holding one) that lives in a span of
// shared memory and connects one producer process (or thread) with one consumer. No mutex,
// no condition variable: each slot carries a sequence word next to its value (one cache line
// per slot), so a handoff moves a single cache line, and a process killed at any instruction
// leaves nothing locked. Blocking waits spin briefly, then sleep on a futex in the shared
// memory; the other side issues a wake-up syscall only when someone is asleep.
//
// Layout (docs/shm-layout.md): a 320-byte control block, then `capacity` slots of
// SlotSize(sizeof(T)) bytes.
//
// Usage: one process calls `Ring<T>::Format` on the memory; then each side attaches its end,
// `RingProducer<T>::Attach` / `RingConsumer<T>::Attach`. Attaching claims that end for the
// calling process; a claim held by a live process is refused (kBusy), a dead one's is taken
// over, so a restarted worker can resume a ring.
template <class T>
class Ring {
  static_assert(std::is_trivially_copyable_v<T>, "ring values are copied as bytes");
  static_assert(alignof(T) <= detail::kSlotValueOffset);

 public:
  static constexpr std::size_t kSlotSize = detail::SlotSize(sizeof(T));

  // Bytes of shared memory a ring of `capacity` slots needs.
  static constexpr std::size_t BytesFor(std::uint32_t capacity) {
    return sizeof(detail::RingControl) + std::size_t{capacity} * kSlotSize;
  }

  // Writes an empty ring into `memory`.
  // REQUIRES: capacity is a power of two >= 2; memory.size() >= BytesFor(capacity); memory is
  // 64-byte aligned; no endpoint is attached. Errors: kInvalidArgument.
  [[nodiscard]] static Status Format(std::span<std::byte> memory, std::uint32_t capacity) {
    return detail::FormatRing(memory, capacity, sizeof(T));
  }
};

namespace detail {

// What RingProducer and RingConsumer share: the mapping, the claim, and this end's position.
template <class T>
class RingEndpoint {
 public:
  RingEndpoint(RingEndpoint&& other) noexcept
      : control_(std::exchange(other.control_, nullptr)),
        slots_(other.slots_),
        mask_(other.mask_),
        position_(other.position_),
        policy_(other.policy_),
        spin_(other.spin_),
        is_producer_(other.is_producer_) {}
  RingEndpoint& operator=(RingEndpoint&& other) noexcept {
    if (this != &other) {
      Detach();
      control_ = std::exchange(other.control_, nullptr);
      slots_ = other.slots_;
      mask_ = other.mask_;
      position_ = other.position_;
      policy_ = other.policy_;
      spin_ = other.spin_;
      is_producer_ = other.is_producer_;
    }
    return *this;
  }
  ~RingEndpoint() { Detach(); }

  // Whether the other end is attached, alive, or gone (reads /proc: not for per-item use).
  [[nodiscard]] PeerState peer() const { return PeerOf(peer_word()); }
  [[nodiscard]] std::uint32_t capacity() const { return mask_ + 1; }
  // Items in the ring now; exact from neither side while the other runs, good for gauges.
  [[nodiscard]] std::uint64_t depth() const {
    return control_->producer.position.load(std::memory_order_relaxed) -
           control_->consumer.position.load(std::memory_order_relaxed);
  }
  // How long this end's next blocking wait spins before it sleeps (WaitPolicy: adaptive).
  [[nodiscard]] std::chrono::nanoseconds spin_budget() const { return spin_; }
  void set_wait_policy(const WaitPolicy& policy) {
    policy_ = policy;
    spin_ = policy.spin_for;
  }

 protected:
  RingEndpoint(std::span<std::byte> memory, const AttachedEndpoint& attached,
               const WaitPolicy& policy, bool is_producer)
      : control_(reinterpret_cast<RingControl*>(memory.data())),
        slots_(memory.data() + sizeof(RingControl)),
        mask_(attached.capacity - 1),
        position_(attached.position),
        policy_(policy),
        spin_(policy.spin_for),
        is_producer_(is_producer) {}

  [[nodiscard]] std::atomic<std::uint64_t>& seq(std::uint64_t position) const {
    return reinterpret_cast<SlotSeq*>(slots_ + (position & mask_) * Ring<T>::kSlotSize)->seq;
  }
  [[nodiscard]] std::byte* value(std::uint64_t position) const {
    return slots_ + (position & mask_) * Ring<T>::kSlotSize + kSlotValueOffset;
  }
  [[nodiscard]] EndpointWord& own_word() const {
    return is_producer_ ? control_->producer : control_->consumer;
  }
  [[nodiscard]] const EndpointWord& peer_word() const {
    return is_producer_ ? control_->consumer : control_->producer;
  }

  RingControl* control_;
  std::byte* slots_;
  std::uint32_t mask_;
  std::uint64_t position_;  // private copy of own_word().position
  WaitPolicy policy_;
  std::chrono::nanoseconds spin_;  // this endpoint's adaptive spin budget (see WaitPolicy)
  bool is_producer_;

 private:
  // Gives up the claim and wakes the other end if it sleeps, so that it sees kPeerGone now
  // rather than at its next peer check.
  void Detach() {
    if (control_ == nullptr) return;
    DetachEndpoint(own_word());
    Notify(is_producer_ ? control_->not_empty : control_->not_full);
    control_ = nullptr;
  }
};

}  // namespace detail

// The producing end of a Ring. Thread-safety: one thread at a time (it is the single producer).
template <class T>
class RingProducer : public detail::RingEndpoint<T> {
 public:
  // Errors: kBadLayout (not a formatted ring of T), kBusy (a live producer holds it).
  [[nodiscard]] static Result<RingProducer> Attach(std::span<std::byte> memory,
                                                   const WaitPolicy& policy = {}) {
    auto attached = detail::AttachEndpoint(memory, sizeof(T), /*producer=*/true);
    if (!attached) return tl::unexpected(attached.error());
    return RingProducer(memory, *attached, policy);
  }

  // Appends `value` unless the ring is full. Never blocks.
  [[nodiscard]] bool TryPush(const T& value) {
    auto& seq = this->seq(this->position_);
    if (seq.load(std::memory_order_acquire) != this->position_) return false;  // full
    std::memcpy(this->value(this->position_), &value, sizeof(T));
    seq.store(this->position_ + 1, std::memory_order_release);
    this->control_->producer.position.store(++this->position_, std::memory_order_relaxed);
    detail::Notify(this->control_->not_empty);
    return true;
  }

  // Appends `value`, waiting while the ring is full.
  // Errors: kTimeout, kPeerGone (the consumer died or detached; `value` was not queued).
  [[nodiscard]] Status Push(const T& value, std::chrono::nanoseconds timeout) {
    for (;;) {
      if (TryPush(value)) return {};
      auto waited = detail::WaitUntil(
          this->control_->not_full, this->peer_word(), this->policy_, this->spin_, timeout, [this] {
            return this->seq(this->position_).load(std::memory_order_acquire) == this->position_;
          });
      if (!waited) return waited;
    }
  }

 private:
  RingProducer(std::span<std::byte> memory, const detail::AttachedEndpoint& attached,
               const WaitPolicy& policy)
      : detail::RingEndpoint<T>(memory, attached, policy, /*is_producer=*/true) {}
};

// The consuming end of a Ring. Thread-safety: one thread at a time (it is the single consumer).
template <class T>
class RingConsumer : public detail::RingEndpoint<T> {
 public:
  // Errors: kBadLayout (not a formatted ring of T), kBusy (a live consumer holds it).
  [[nodiscard]] static Result<RingConsumer> Attach(std::span<std::byte> memory,
                                                   const WaitPolicy& policy = {}) {
    auto attached = detail::AttachEndpoint(memory, sizeof(T), /*producer=*/false);
    if (!attached) return tl::unexpected(attached.error());
    return RingConsumer(memory, *attached, policy);
  }

  // Removes the oldest value, or returns nullopt if the ring is empty. Never blocks.
  [[nodiscard]] std::optional<T> TryPop() {
    auto& seq = this->seq(this->position_);
    if (seq.load(std::memory_order_acquire) != this->position_ + 1) return std::nullopt;
    T out;
    std::memcpy(&out, this->value(this->position_), sizeof(T));
    seq.store(this->position_ + this->capacity(), std::memory_order_release);
    this->control_->consumer.position.store(++this->position_, std::memory_order_relaxed);
    detail::Notify(this->control_->not_full);
    return out;
  }

  // Removes the oldest value, waiting while the ring is empty. Values pushed before the
  // producer died are still delivered; kPeerGone comes only once the ring is empty.
  // Errors: kTimeout, kPeerGone.
  [[nodiscard]] Result<T> Pop(std::chrono::nanoseconds timeout) {
    for (;;) {
      if (auto value = TryPop()) return *value;
      auto waited =
          detail::WaitUntil(this->control_->not_empty, this->peer_word(), this->policy_,
                            this->spin_, timeout, [this] {
                              return this->seq(this->position_).load(std::memory_order_acquire) ==
                                     this->position_ + 1;
                            });
      if (!waited) return tl::unexpected(waited.error());
    }
  }

 private:
  RingConsumer(std::span<std::byte> memory, const detail::AttachedEndpoint& attached,
               const WaitPolicy& policy)
      : detail::RingEndpoint<T>(memory, attached, policy, /*is_producer=*/false) {}
};

}  // namespace zcpipe::shm
