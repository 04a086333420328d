#include "frame_ledger.h"

#include <atomic>

namespace zcpipe::detail {
namespace {

// docs/shm-layout.md, import blocks: the slot is a lock-free (hence address-free) atomic u64.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::required_alignment == 8);

std::atomic_ref<std::uint64_t> SlotRef(std::byte* slot) {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(slot));
}

}  // namespace

void FrameLedger::Track(std::uint64_t seq, std::span<std::byte, 8> slot) {
  std::lock_guard lock(mutex_);
  SlotRef(slot.data()).store(seq == next_seq_ ? next_frame_ + 1 : 0, std::memory_order_release);
  if (seq >= next_seq_) chunks_[seq].slot = slot.data();
}

void FrameLedger::Done(std::uint64_t seq, std::uint64_t batches) {
  std::lock_guard lock(mutex_);
  if (seq < next_seq_) return;
  chunks_[seq].batches = batches;
  Advance();
}

void FrameLedger::Advance() {
  for (auto it = chunks_.find(next_seq_); it != chunks_.end() && it->first == next_seq_;
       it = chunks_.erase(it)) {
    if (!it->second.batches) {  // tracked, being parsed: its index is known now
      SlotRef(it->second.slot).store(next_frame_ + 1, std::memory_order_release);
      return;
    }
    next_frame_ += *it->second.batches;
    ++next_seq_;
  }
}

std::optional<std::uint64_t> FrameLedger::ReadSlot(std::span<const std::byte, 8> slot) {
  // A load does not write: the const_cast only satisfies atomic_ref's C++20 signature.
  const std::uint64_t value =
      SlotRef(const_cast<std::byte*>(slot.data())).load(std::memory_order_acquire);
  if (value == 0) return std::nullopt;
  return value - 1;
}

}  // namespace zcpipe::detail
