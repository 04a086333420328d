#include "zcpipe/shm/block_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include "pool_layout.h"
#include "segment_layout.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::shm {

static_assert(kBlockAlignment == detail::kPageSize);
static_assert(BlockSizeFor(1) == detail::RoundUp(1, detail::kPageSize));
using detail::PoolHeader;
using detail::PoolMap;

namespace {

// The map of a pool of `block_count` blocks of `block_size` in `segment`, from values the caller
// holds in private memory (never re-read from the header, which any peer can rewrite).
PoolMap MapOf(const Segment& segment, std::uint32_t block_size, std::uint32_t block_count) {
  const auto geometry = detail::Geometry(sizeof(detail::SegmentHeader), block_size, block_count);
  return PoolMap{
      segment.base(),
      segment.id(),
      block_size,
      block_count,
      reinterpret_cast<std::atomic<std::uint32_t>*>(segment.base() + geometry.generations_offset),
      segment.base() + geometry.blocks_offset};
}

// Makes [begin, begin + bytes) resident and writable in this process's page tables at once.
// Returns 0 or errno; EINVAL: a kernel before 5.14, where the pages come on first use instead.
int PopulateForWriting(std::byte* begin, std::size_t bytes) {
  return ::madvise(begin, bytes, MADV_POPULATE_WRITE) == 0 ? 0 : errno;
}

// Backs the whole 2 MiB pages of `segment` that [begin, begin + bytes) touches with 2 MiB pages,
// best effort. MADV_COLLAPSE works whatever the THP settings say (short of "deny") but only on
// pages that exist, so one 4 KiB page per 2 MiB is populated first; the kernel allocates the
// rest of each 2 MiB page zeroed. Fails quietly on kernels without it, without a free 2 MiB
// page, or when the segment is not mapped at a multiple of 2 MiB (see Segment::base).
void BackWithHugePages(const Segment& segment, std::byte* begin, std::size_t bytes) {
#ifdef MADV_COLLAPSE
  constexpr int kCollapse = MADV_COLLAPSE;
#else
  constexpr int kCollapse = 25;  // Linux 6.1's <linux/mman.h>; glibc 2.36's <sys/mman.h> lacks it
#endif
  std::byte* base = segment.base();
  if (reinterpret_cast<std::uintptr_t>(base) % detail::kHugePageSize != 0) return;
  const std::size_t first =
      static_cast<std::size_t>(begin - base) / detail::kHugePageSize * detail::kHugePageSize;
  const std::size_t end = std::min<std::size_t>(
      detail::RoundUp(static_cast<std::size_t>(begin - base) + bytes, detail::kHugePageSize),
      segment.size() / detail::kHugePageSize * detail::kHugePageSize);
  if (end <= first) return;
  for (std::size_t at = first; at < end; at += detail::kHugePageSize) {
    if (PopulateForWriting(base + at, detail::kPageSize) != 0) return;
  }
  (void)::madvise(base + first, end - first, kCollapse);
}

// Generation after `g`, skipping 0 ("never issued") on wrap-around.
std::uint32_t NextGeneration(std::uint32_t g) { return g == UINT32_MAX ? 1 : g + 1; }

}  // namespace

struct BlockPool::Impl {
  Impl(Segment s, std::uint32_t block_size, std::uint32_t block_count)
      : segment(std::move(s)),
        map(MapOf(segment, block_size, block_count)),
        generations(std::make_unique<std::atomic<std::uint32_t>[]>(map.block_count)) {
    for (std::uint32_t i = 0; i < map.block_count; ++i) generations[i].store(1);
    private_map = map;
    private_map.generations = generations.get();
  }

  Segment segment;
  PoolMap map;  // the shared generation words: written for peers, never read here
  // The authoritative generations, in this process's private memory: peers map the segment
  // read-write and may scribble on its generation words, which must not decide what this
  // process resolves or releases. private_map is `map` with these in place of the shared ones.
  std::unique_ptr<std::atomic<std::uint32_t>[]> generations;
  PoolMap private_map;
  std::mutex mutex;  // process-private: guards the fields below, never shared with a peer
  // Ordered: Allocate takes the lowest or the highest; a block not in it is allocated.
  std::set<std::uint32_t> free_blocks;
  std::vector<bool> reserved;  // by block: its memory is allocated (Segment::Reserve)
  std::uint32_t high_water = 0;
};

BlockPool::BlockPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockPool::BlockPool(BlockPool&&) noexcept = default;
BlockPool& BlockPool::operator=(BlockPool&&) noexcept = default;
BlockPool::~BlockPool() = default;

Result<BlockPool> BlockPool::Create(const PoolOptions& options) {
  if (options.block_size == 0 || options.block_size % detail::kPageSize != 0 ||
      options.block_count == 0 || options.resident_high_blocks > options.block_count ||
      options.resident_blocks > options.block_count - options.resident_high_blocks) {
    return Fail(Errc::kInvalidArgument);
  }
  constexpr std::uint64_t kPayloadOffset = sizeof(detail::SegmentHeader);
  const auto geometry = detail::Geometry(kPayloadOffset, options.block_size, options.block_count);
  // The header and generations now; each block when it is first handed out (Allocate), so that
  // an arena costs the memory its callers use, yet no block is written before it is reserved.
  auto segment = Segment::Create({.payload_size = geometry.total_size - kPayloadOffset,
                                  .kind = SegmentKind::kBlockPool,
                                  .reserved_size = geometry.blocks_offset});
  if (!segment) return tl::unexpected(segment.error());

  std::byte* base = segment->base();
  new (segment->payload().data()) PoolHeader{options.block_size, options.block_count,
                                             geometry.generations_offset, geometry.blocks_offset};
  auto* generations =
      reinterpret_cast<std::atomic<std::uint32_t>*>(base + geometry.generations_offset);
  for (std::uint32_t i = 0; i < options.block_count; ++i) {
    new (&generations[i]) std::atomic<std::uint32_t>(1);
  }

  // Allocate(kLow) hands out the lowest free block and Allocate(kHigh) the highest, so these
  // are the first ones used.
  const std::pair<std::uint32_t, std::uint32_t> resident[] = {
      {0, options.resident_blocks},
      {options.block_count - options.resident_high_blocks, options.resident_high_blocks}};
  for (const auto& [first, count] : resident) {
    if (count == 0) continue;
    std::byte* begin = base + geometry.blocks_offset + std::size_t{first} * options.block_size;
    const std::size_t bytes = std::size_t{count} * options.block_size;
    BackWithHugePages(*segment, begin, bytes);  // before Reserve: it leaves huge pages alone
    if (auto reserved = segment->Reserve(static_cast<std::size_t>(begin - base), bytes);
        !reserved) {
      return tl::unexpected(reserved.error());
    }
    const int error = PopulateForWriting(begin, bytes);
    if (error != 0 && error != EINVAL) return Fail(Errc::kSystem, error);
  }
  auto impl = std::make_unique<Impl>(std::move(*segment), options.block_size, options.block_count);
  for (std::uint32_t i = 0; i < options.block_count; ++i) impl->free_blocks.insert(i);
  impl->reserved.resize(options.block_count);
  for (const auto& [first, count] : resident) {
    std::fill_n(impl->reserved.begin() + first, count, true);
  }
  return BlockPool(std::move(impl));
}

Result<Handle> BlockPool::Allocate(BlockEnd end) {
  std::lock_guard lock(impl_->mutex);
  auto& free_blocks = impl_->free_blocks;
  if (free_blocks.empty()) return Fail(Errc::kExhausted);
  const auto it = end == BlockEnd::kHigh ? std::prev(free_blocks.end()) : free_blocks.begin();
  const std::uint32_t block = *it;
  if (!impl_->reserved[block]) {  // first use: its memory, or an error instead of SIGBUS later
    const auto offset = static_cast<std::size_t>(impl_->map.blocks - impl_->map.base) +
                        std::size_t{block} * impl_->map.block_size;
    if (auto reserved = impl_->segment.Reserve(offset, impl_->map.block_size); !reserved) {
      return tl::unexpected(reserved.error());
    }
    impl_->reserved[block] = true;
  }
  free_blocks.erase(it);
  const auto in_use = static_cast<std::uint32_t>(impl_->map.block_count - free_blocks.size());
  impl_->high_water = std::max(impl_->high_water, in_use);
  const std::uint32_t generation = impl_->generations[block].load(std::memory_order_relaxed);
  return Handle{impl_->map.segment_id, block, generation, 0, impl_->map.block_size};
}

Status BlockPool::Release(const Handle& handle) {
  std::lock_guard lock(impl_->mutex);
  const auto& map = impl_->map;
  if (handle.segment != map.segment_id) return Fail(Errc::kWrongSegment);
  if (handle.block >= map.block_count) return Fail(Errc::kBlockOutOfRange);
  if (impl_->free_blocks.contains(handle.block)) return Fail(Errc::kNotOwned);
  auto& generation = impl_->generations[handle.block];
  if (handle.generation != generation.load(std::memory_order_relaxed)) {
    return Fail(Errc::kStaleHandle);
  }
  // From here on, every outstanding copy of the handle resolves as stale, in every process
  // (the shared word is overwritten, whatever a peer put there).
  const std::uint32_t next = NextGeneration(handle.generation);
  generation.store(next, std::memory_order_release);
  map.generations[handle.block].store(next, std::memory_order_release);
  impl_->free_blocks.insert(handle.block);
  return {};
}

Result<std::span<std::byte>> BlockPool::Resolve(const Handle& handle) const {
  return impl_->private_map.Resolve(handle);
}

const std::string& BlockPool::name() const { return impl_->segment.name(); }
std::uint32_t BlockPool::segment_id() const { return impl_->map.segment_id; }
std::uint32_t BlockPool::block_size() const { return impl_->map.block_size; }
std::uint32_t BlockPool::block_count() const { return impl_->map.block_count; }
std::uint32_t BlockPool::blocks_in_use() const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<std::uint32_t>(impl_->map.block_count - impl_->free_blocks.size());
}
std::uint32_t BlockPool::high_water() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->high_water;
}

struct PoolView::Impl {
  Impl(Segment s, std::uint32_t block_size, std::uint32_t block_count)
      : segment(std::move(s)),
        map(MapOf(segment, block_size, block_count)),
        populated(std::make_unique<std::atomic<bool>[]>(map.block_count)) {}

  Segment segment;
  PoolMap map;
  std::unique_ptr<std::atomic<bool>[]> populated;  // by block: Populate has been called
};

PoolView::PoolView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PoolView::PoolView(PoolView&&) noexcept = default;
PoolView& PoolView::operator=(PoolView&&) noexcept = default;
PoolView::~PoolView() = default;

Result<PoolView> PoolView::Attach(std::string_view name) {
  auto segment = Segment::Attach(name);
  if (!segment) return tl::unexpected(segment.error());
  if (segment->kind() != SegmentKind::kBlockPool ||
      segment->payload().size() < sizeof(PoolHeader)) {
    return Fail(Errc::kBadLayout);
  }
  // Check the header's geometry against the mapping before trusting any offset in it, on a
  // private copy: what is checked is what is used.
  PoolHeader header;
  std::memcpy(&header, segment->payload().data(), sizeof header);
  const auto geometry =
      detail::Geometry(sizeof(detail::SegmentHeader), header.block_size, header.block_count);
  if (header.block_size == 0 || header.block_count == 0 ||
      header.generations_offset != geometry.generations_offset ||
      header.blocks_offset != geometry.blocks_offset || geometry.total_size != segment->size()) {
    return Fail(Errc::kBadLayout);
  }
  return PoolView(
      std::make_unique<Impl>(std::move(*segment), header.block_size, header.block_count));
}

Result<std::span<std::byte>> PoolView::Resolve(const Handle& handle) const {
  return impl_->map.Resolve(handle);
}

void PoolView::Populate(const Handle& handle) {
  const auto& map = impl_->map;
  if (!map.Resolve(handle) || impl_->populated[handle.block].exchange(true)) return;
  (void)PopulateForWriting(map.blocks + std::size_t{handle.block} * map.block_size,
                           map.block_size);  // best effort: see the header
}

std::uint32_t PoolView::segment_id() const { return impl_->map.segment_id; }
std::uint32_t PoolView::block_size() const { return impl_->map.block_size; }
std::uint32_t PoolView::block_count() const { return impl_->map.block_count; }

}  // namespace zcpipe::shm
