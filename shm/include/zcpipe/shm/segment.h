// Segment: a named shared-memory region with a self-describing header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  };

  // Creates, sizes, zero-fills (the kernel does) and maps a new segment, writes the header and
  // marks it ready. Errors: kInvalidArgument, kTooManySegments, kSystem.
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

 private:
  struct Impl;
  explicit Segment(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

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
