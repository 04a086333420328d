// Segment: a named shared-memory region with a self-describing header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/shm/error.h"

namespace zcpipe::shm {

// What a segment's payload holds; recorded in the header so that an attacher can check it
// mapped what it expected.
enum class SegmentKind : std::uint32_t {
  kRaw = 0,        // laid out by the caller
  kBlockPool = 1,  // a BlockPool (block_pool.h)
  kChannel = 2,    // rings (ring.h) and other control words
};

// How many segments one process can own at once (Create fails with kTooManySegments beyond).
inline constexpr std::size_t kMaxOwnedSegments = 256;

// Every segment name starts with this prefix, followed by "<creator pid>.<16 random hex>".
inline constexpr std::string_view kSegmentPrefix = "zcpipe.";

// A POSIX shared-memory object (Boost.Interprocess shared_memory_object + mapped_region),
// mapped read-write into this process. Layout: a 128-byte header (magic, layout version,
// size, id, kind, creator identity; see docs/shm-layout.md), then the payload.
//
// Ownership: the process that `Create`s a segment owns its name. The name is removed (shm
// unlinked) when the owning Segment is destroyed, at normal process exit, and on SIGINT,
// SIGTERM or SIGHUP whose disposition was the default (the signal is then re-raised so that
// the process still dies of it); a program with its own handler for those signals is in
// charge of shutting down and destroying its segments. Segments whose creator died without
// any of that (SIGKILL, power loss) are found and removed by `Sweep()`.
// An `Attach`ed Segment only maps; destroying it unmaps. Mappings outlive the name: peers
// keep working after the owner unlinks, and new attaches fail.
//
// The name is unpredictable (random suffix) and the object is created 0600, so only the same
// user can attach. Every mapping (Create, Attach) is left out of core dumps (MADV_DONTDUMP):
// what it holds (rows in clear) must not land in a crashed process's core file.
//
// Thread-safety: a Segment is immutable after construction; concurrent reads of its accessors
// are safe. What the payload holds is the payload's business.
class Segment {
 public:
  struct Options {
    std::size_t payload_size = 0;  // bytes after the header; REQUIRES > 0
    SegmentKind kind = SegmentKind::kRaw;
    // How many bytes, from the segment's first (the header's), have their memory allocated at
    // creation: all by default. A caller that touches the rest only a part at a time, as it
    // hands the parts out, reserves each part then (Reserve).
    std::size_t reserved_size = SIZE_MAX;
  };

  // Creates, sizes, zero-fills (the kernel does) and maps a new segment, writes the header and
  // marks it ready. Memory is allocated up front for its first `reserved_size` bytes
  // (posix_fallocate), so that touching them cannot fail later: a /dev/shm too small fails here
  // (kSystem ENOSPC, or ENOMEM under a memory limit), not with SIGBUS on first touch. A segment
  // larger than what /dev/shm has free (FreeSharedMemory) is refused (kSystem ENOSPC), however
  // much of it is reserved now. Errors: kInvalidArgument, kTooManySegments, kSystem.
  [[nodiscard]] static Result<Segment> Create(const Options& options);

  // Maps an existing segment by name and validates its header.
  // Errors: kSystem (ENOENT: no such segment), kBadLayout, kNotReady.
  [[nodiscard]] static Result<Segment> Attach(std::string_view name);

  Segment(Segment&&) noexcept;
  Segment& operator=(Segment&&) noexcept;
  ~Segment();

  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] std::uint32_t id() const;  // random, nonzero; names the segment in handles
  [[nodiscard]] SegmentKind kind() const;
  [[nodiscard]] bool owner() const;  // true for the creating Segment in the creating process
  // The header's first byte: page-aligned, and a multiple of 2 MiB for a segment of 2 MiB or
  // more wherever the address space allows (so that 2 MiB pages of it can be mapped as such).
  [[nodiscard]] std::byte* base() const;
  [[nodiscard]] std::size_t size() const;  // header + payload
  [[nodiscard]] std::span<std::byte> payload() const;

  // Allocates the memory of bytes [offset, offset + bytes) of the segment now, as Create does for
  // its first `reserved_size` bytes; what is already allocated stays as it is. REQUIRES: owner().
  // Errors: kInvalidArgument (not the owner, or a range past the end), kSystem (ENOSPC: /dev/shm
  // is full).
  [[nodiscard]] Status Reserve(std::size_t offset, std::size_t bytes) const;

 private:
  struct Impl;
  explicit Segment(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The bytes /dev/shm (where segments live) has free for new segments; nullopt if unknown.
[[nodiscard]] std::optional<std::uint64_t> FreeSharedMemory();

// What Sweep found in /dev/shm among names with kSegmentPrefix.
struct SweepReport {
  std::vector<std::string> removed;  // creator dead (or, with dry_run, would be removed)
  std::size_t live = 0;              // creator still running: left alone
  std::vector<std::string> failed;   // could not be removed (e.g. another user's)
};

// Removes the segments whose creating process is gone (checked by pid and start time, so a
// reused pid does not keep a dead run's segment alive). With dry_run, only reports.
// Safe to run while other zcpipe processes run: their segments are live and left alone.
[[nodiscard]] SweepReport Sweep(bool dry_run = false);

}  // namespace zcpipe::shm
