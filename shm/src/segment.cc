#include "zcpipe/shm/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include "cleanup.h"
#include "segment_layout.h"
#include "zcpipe/shm/process.h"

namespace zcpipe::shm {
namespace bip = boost::interprocess;
using detail::SegmentHeader;

struct Segment::Impl {
  std::string name;
  // The creator's, open while part of the segment is not reserved yet (Reserve); else empty.
  bip::shared_memory_object object;
  bip::mapped_region region;
  bool owner = false;
  pid_t owner_pid = 0;

  [[nodiscard]] SegmentHeader& header() const {
    return *static_cast<SegmentHeader*>(region.get_address());
  }

  ~Impl() {
    // A forked child holds a copy of its parent's Segment: only the creating process removes.
    if (owner && owner_pid == ::getpid()) {
      bip::shared_memory_object::remove(name.c_str());
      detail::ForgetOwnedName(name);
    }
  }
};

namespace {

template <class T>
bool FillRandom(T& value) {
  return ::getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value);
}

// Maps all of `object` read-write. A segment of 2 MiB or more goes at a multiple of 2 MiB: the
// kernel can map a 2 MiB page of it (BlockPool's resident blocks) only where virtual address
// and file offset agree modulo 2 MiB, and then with one page-table entry instead of 512, in
// every process. Where the address space cannot be had, wherever the kernel puts it.
// Throws bip::interprocess_exception, as mapped_region does.
bip::mapped_region MapAligned(const bip::shared_memory_object& object, std::size_t size) {
  if (size >= detail::kHugePageSize) {
    // A reservation of size + 2 MiB holds a 2 MiB boundary with `size` bytes after it; the
    // segment replaces that part of it (MAP_FIXED), and the rest is given back.
    const std::size_t reserved = size + detail::kHugePageSize;
    void* reservation =
        ::mmap(nullptr, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reservation != MAP_FAILED) {
      auto* begin = static_cast<std::byte*>(reservation);
      const auto skip = static_cast<std::size_t>(
          detail::RoundUp(reinterpret_cast<std::uintptr_t>(begin), detail::kHugePageSize) -
          reinterpret_cast<std::uintptr_t>(begin));
      std::byte* at = begin + skip;
      const auto mapped = static_cast<std::size_t>(detail::RoundUp(size, detail::kPageSize));
      try {
        bip::mapped_region region(object, bip::read_write, 0, size, at, MAP_FIXED);
        if (skip != 0) ::munmap(begin, skip);
        ::munmap(at + mapped, reserved - skip - mapped);
        return region;
      } catch (const bip::interprocess_exception&) {
        ::munmap(reservation, reserved);
      }
    }
  }
  return {object, bip::read_write};
}

// Allocates the memory of [offset, offset + bytes) of `object` now (tmpfs pages, zeroed only
// when first touched), so that touching them cannot fail later. Returns 0 or an errno (ENOSPC:
// /dev/shm is full; ENOMEM: a memory limit); 0 also where the file system has no fallocate,
// which leaves the pages to come on first touch.
int Allocate(const bip::shared_memory_object& object, std::size_t offset, std::size_t bytes) {
  if (bytes == 0) return 0;
  int error = 0;
  do {  // tmpfs stops a long allocation at a signal; what it allocated stays, so go on
    error = ::posix_fallocate(object.get_mapping_handle().handle, static_cast<off_t>(offset),
                              static_cast<off_t>(bytes));
  } while (error == EINTR);
  return error == EOPNOTSUPP || error == ENOSYS ? 0 : error;
}

// MapAligned, its pages left out of core dumps (MADV_DONTDUMP): they hold rows in clear. Best
// effort: a kernel that refuses the advice still maps.
bip::mapped_region MapWhole(const bip::shared_memory_object& object, std::size_t size) {
  bip::mapped_region region = MapAligned(object, size);
  (void)::madvise(region.get_address(),
                  static_cast<std::size_t>(detail::RoundUp(region.get_size(), detail::kPageSize)),
                  MADV_DONTDUMP);
  return region;
}

Error FromException(const bip::interprocess_exception& e) {
  const int native = e.get_native_error();
  if (e.get_error_code() == bip::not_found_error) return {Errc::kSystem, ENOENT};
  return {Errc::kSystem, native != 0 ? native : EIO};
}

}  // namespace

Segment::Segment(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Segment::Segment(Segment&&) noexcept = default;
Segment& Segment::operator=(Segment&&) noexcept = default;
Segment::~Segment() = default;

Result<Segment> Segment::Create(const Options& options) {
  if (options.payload_size == 0) return Fail(Errc::kInvalidArgument);
  const std::size_t total = sizeof(SegmentHeader) + options.payload_size;
  // Even a segment reserved in part: its pages would run out as they are touched.
  if (FreeSharedMemory().value_or(total) < total) return Fail(Errc::kSystem, ENOSPC);
  auto impl = std::make_unique<Impl>();
  bip::permissions owner_only(0600);
  bip::shared_memory_object object;
  for (int attempt = 0;; ++attempt) {  // a name collision is astronomically rare; retry anyway
    std::uint64_t suffix = 0;
    if (!FillRandom(suffix)) return Fail(Errc::kSystem, errno);
    char name[64];
    (void)std::snprintf(name, sizeof name, "%.*s%d.%016llx",
                        static_cast<int>(kSegmentPrefix.size()), kSegmentPrefix.data(),
                        static_cast<int>(::getpid()), static_cast<unsigned long long>(suffix));
    try {
      object = bip::shared_memory_object(bip::create_only, name, bip::read_write, owner_only);
      impl->name = name;
      break;
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() != bip::already_exists_error || attempt == 8) {
        return tl::unexpected(FromException(e));
      }
    }
  }
  // Registered before sizing, so that a signal from here on still removes the name.
  if (auto registered = detail::RegisterOwnedName(impl->name); !registered) {
    bip::shared_memory_object::remove(impl->name.c_str());
    return tl::unexpected(registered.error());
  }
  impl->owner = true;
  impl->owner_pid = ::getpid();
  try {
    object.truncate(static_cast<bip::offset_t>(total));
    if (const int error = Allocate(object, 0, std::min(options.reserved_size, total)); error != 0) {
      return Fail(Errc::kSystem, error);  // ~Impl removes the name
    }
    impl->region = MapWhole(object, total);
    if (options.reserved_size < total) impl->object = std::move(object);  // for Reserve
  } catch (const bip::interprocess_exception& e) {
    return tl::unexpected(FromException(e));  // ~Impl removes the name
  }

  std::uint32_t id = 0;
  while (id == 0) {
    if (!FillRandom(id)) return Fail(Errc::kSystem, errno);
  }
  auto* header = new (impl->region.get_address()) SegmentHeader{};
  header->magic = detail::kSegmentMagic;
  header->version = detail::kSegmentVersion;
  header->header_size = sizeof(SegmentHeader);
  header->total_size = total;
  header->id = id;
  header->kind = static_cast<std::uint32_t>(options.kind);
  header->creator = ProcessIdentity::Self().Pack();
  // Ready from the header's point of view; callers that lay out a payload do so before they
  // publish the name to anyone.
  header->state.store(detail::kSegmentReady, std::memory_order_release);
  return Segment(std::move(impl));
}

Result<Segment> Segment::Attach(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument);
  }
  auto impl = std::make_unique<Impl>();
  impl->name = std::string(name);
  try {
    bip::shared_memory_object object(bip::open_only, impl->name.c_str(), bip::read_write);
    bip::offset_t size = 0;
    if (!object.get_size(size) || size < static_cast<bip::offset_t>(sizeof(SegmentHeader))) {
      return Fail(Errc::kNotReady);  // created but not sized yet, or not ours
    }
    impl->region = MapWhole(object, static_cast<std::size_t>(size));
  } catch (const bip::interprocess_exception& e) {
    return tl::unexpected(FromException(e));
  }
  const SegmentHeader& header = impl->header();
  if (header.magic != detail::kSegmentMagic || header.version != detail::kSegmentVersion ||
      header.header_size != sizeof(SegmentHeader) || header.total_size != impl->region.get_size()) {
    return Fail(header.magic == 0 ? Errc::kNotReady : Errc::kBadLayout);
  }
  if (header.state.load(std::memory_order_acquire) != detail::kSegmentReady) {
    return Fail(Errc::kNotReady);
  }
  return Segment(std::move(impl));
}

Status Segment::Reserve(std::size_t offset, std::size_t bytes) const {
  if (!owner() || offset > size() || bytes > size() - offset) return Fail(Errc::kInvalidArgument);
  if (impl_->object.get_mapping_handle().handle < 0) return {};  // reserved whole at creation
  if (const int error = Allocate(impl_->object, offset, bytes); error != 0) {
    return Fail(Errc::kSystem, error);
  }
  return {};
}

std::optional<std::uint64_t> FreeSharedMemory() {
  struct statvfs info {};
  if (::statvfs(detail::kShmDir, &info) != 0) return std::nullopt;
  return std::uint64_t{info.f_bavail} * info.f_frsize;
}

const std::string& Segment::name() const { return impl_->name; }
std::uint32_t Segment::id() const { return impl_->header().id; }
SegmentKind Segment::kind() const { return static_cast<SegmentKind>(impl_->header().kind); }
bool Segment::owner() const { return impl_->owner && impl_->owner_pid == ::getpid(); }
std::byte* Segment::base() const { return static_cast<std::byte*>(impl_->region.get_address()); }
std::size_t Segment::size() const { return impl_->region.get_size(); }
std::span<std::byte> Segment::payload() const {
  return {base() + sizeof(SegmentHeader), size() - sizeof(SegmentHeader)};
}

}  // namespace zcpipe::shm
