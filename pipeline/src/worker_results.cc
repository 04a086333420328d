#include "worker_results.h"

#include <cstring>

#include "zcpipe/stages/batch.h"

namespace zcpipe::detail {
namespace {

std::vector<std::byte> Copy(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

}  // namespace

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
  // The batch is checked on a copy even when it is not kept: the Verifier must not read
  // offsets that change under it.
  thread_local std::vector<std::byte> scratch;
  auto& batch = asked.keep_batch ? taken.batch : scratch;
  batch.assign(block.begin() + static_cast<std::ptrdiff_t>(got.batch_offset),
               block.begin() + static_cast<std::ptrdiff_t>(got.batch_offset + got.batch_size));
  if (!stages::BatchView::Open(batch)) return std::nullopt;
  if (asked.sealer != nullptr && got.frame_size != 0) {
    auto frame = TakeFrame(*asked.sealer, got.frame_index,
                           block.subspan(got.frame_offset, got.frame_size));
    if (!frame) return std::nullopt;
    taken.frame = std::move(*frame);
  }
  return taken;
}

std::optional<std::vector<std::byte>> TakeFrame(const stages::ChunkSealer& sealer,
                                                std::uint64_t index,
                                                std::span<const std::byte> frame) {
  auto copy = Copy(frame);
  if (!sealer.Check(index, copy)) return std::nullopt;
  return copy;
}

}  // namespace zcpipe::detail
