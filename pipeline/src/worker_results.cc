#include "worker_results.h"

#include <cstring>

#include "zcpipe/stages/batch.h"

namespace zcpipe::detail {
std::vector<std::byte> TakenBuffers::Take() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return {};
  auto buffer = std::move(free_.back());
  free_.pop_back();
  buffer.clear();
  return buffer;
}

void TakenBuffers::Give(std::vector<std::byte> buffer) {
  if (buffer.capacity() == 0) return;
  std::lock_guard lock(mutex_);
  if (free_.size() < kKept) free_.push_back(std::move(buffer));
}

std::optional<TakenProcess> TakeProcessResult(std::span<const std::byte> block, std::uint64_t at,
                                              std::uint64_t size, const ProcessAsked& asked) {
  if (at > block.size() || size > block.size() - at) return std::nullopt;
  // Its batch and frame lie inside the result, hence inside `block`.
  auto reply = ReadReply(block.subspan(at, size), at);
  if (!reply || reply->bytes_consumed == 0 || reply->bytes_consumed > asked.length ||
      (reply->next_row != 0 && reply->next_row <= asked.first_row)) {
    return std::nullopt;
  }
  TakenProcess taken{std::move(*reply), {}, {}};
  const ProcessReply& got = taken.reply;
  if (asked.sealer != nullptr && got.frame_size != 0) {  // the batch is checked in the frame
    auto frame = TakeFrame(*asked.sealer, got.frame_index,
                           block.subspan(got.frame_offset, got.frame_size), *asked.buffers);
    if (!frame) return std::nullopt;
    taken.frame = std::move(*frame);
    return taken;
  }
  // On a copy even when it is not kept: the Verifier must not read offsets that change under it.
  thread_local std::vector<std::byte> scratch;
  if (asked.keep_batch) taken.batch = asked.buffers->Take();
  auto& batch = asked.keep_batch ? taken.batch : scratch;
  batch.assign(block.begin() + static_cast<std::ptrdiff_t>(got.batch_offset),
               block.begin() + static_cast<std::ptrdiff_t>(got.batch_offset + got.batch_size));
  if (!stages::BatchView::Open(batch)) return std::nullopt;
  return taken;
}

std::optional<std::vector<std::byte>> TakeFrame(const stages::ChunkSealer& sealer,
                                                std::uint64_t index,
                                                std::span<const std::byte> frame,
                                                TakenBuffers& buffers) {
  auto copy = buffers.Take();
  copy.assign(frame.begin(), frame.end());
  const auto plaintext = sealer.Check(index, copy);
  if (plaintext && stages::BatchView::Open(*plaintext)) return copy;
  buffers.Give(std::move(copy));
  return std::nullopt;
}

}  // namespace zcpipe::detail
