#include "block_gate.h"

#include <chrono>
#include <utility>

namespace zcpipe::detail {

BlockGate::BlockGate(shm::BlockPool& pool, std::uint32_t reserve)
    : pool_(pool), reserve_(reserve), thread_([this] { Run(); }) {}

BlockGate::~BlockGate() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::optional<shm::Handle> BlockGate::TryTake(std::uint64_t seq, shm::BlockEnd end,
                                              std::uint64_t* epoch, shm::Error* refused) {
  std::lock_guard lock(mutex_);  // the count checked is the count taken from
  if (epoch != nullptr) *epoch = epoch_;
  if (seq > head_ && pool_.block_count() - pool_.blocks_in_use() <= reserve_) return std::nullopt;
  auto block = pool_.Allocate(end);
  if (!block) {
    if (refused != nullptr) *refused = block.error();
    return std::nullopt;
  }
  return *block;
}

void BlockGate::Park(std::uint64_t seq, std::uint64_t epoch, std::function<void()> retry) {
  {
    std::lock_guard lock(mutex_);
    parked_.emplace(seq, std::move(retry));
    if (epoch != epoch_) missed_ = true;  // an event came between TryTake and now
  }
  wake_.notify_one();
}

void BlockGate::Release(const shm::Handle& handle) {
  std::lock_guard lock(mutex_);
  (void)pool_.Release(handle);
  Event();
}

void BlockGate::Advance(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  head_ = seq;
  Event();
}

void BlockGate::WakeAll() {
  std::lock_guard lock(mutex_);
  Event();
}

bool BlockGate::IsHead(std::uint64_t seq) const {
  std::lock_guard lock(mutex_);
  return seq <= head_;
}

void BlockGate::Event() {
  ++epoch_;
  if (!parked_.empty()) wake_.notify_one();
}

void BlockGate::Run() {
  std::unique_lock lock(mutex_);
  std::uint64_t seen = epoch_;
  for (;;) {
    // Every 100 ms regardless: a head refused keeps count of how long it has waited.
    wake_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return stop_ || missed_ || (epoch_ != seen && !parked_.empty()); });
    seen = epoch_;
    missed_ = false;
    auto ready = std::exchange(parked_, {});
    const bool stop = stop_;
    lock.unlock();
    for (auto& [seq, retry] : ready) retry();  // in seq order: the head first
    lock.lock();
    if (stop) return;
  }
}

}  // namespace zcpipe::detail
