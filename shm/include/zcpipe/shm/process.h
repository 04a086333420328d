// ProcessIdentity: a process named so that pid reuse cannot fool a liveness check.
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <optional>

namespace zcpipe::shm {

// A pid together with the process's start time (clock ticks after boot, from /proc/PID/stat).
// Two processes that reuse one pid differ in start time, so `Alive()` of a recorded identity
// turns false once that process is gone, even if the pid now names another process.
//
// Packs into one 64-bit word (`Pack`/`Unpack`) so that it can be published atomically in shared
// memory; the packed form keeps the low 32 bits of the start time (a collision would need the
// same pid started at the same tick modulo 497 days). Packed value 0 means "nobody".
//
// Thread-safety: a value type; all functions are safe to call from any thread.
struct ProcessIdentity {
  pid_t pid = 0;
  std::uint32_t start_ticks = 0;  // low 32 bits of the start time

  // The calling process. Cheap after the first call in a process (cached per pid, so a forked
  // child gets its own).
  static ProcessIdentity Self();

  // The process running as `pid` now, if any. A zombie counts as gone.
  static std::optional<ProcessIdentity> Of(pid_t pid);

  // True while this exact process exists and is not a zombie. Reads /proc: call it at human
  // time scales (every few milliseconds at most), not per message.
  [[nodiscard]] bool Alive() const;

  [[nodiscard]] std::uint64_t Pack() const {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) | start_ticks;
  }
  static ProcessIdentity Unpack(std::uint64_t packed) {
    return {static_cast<pid_t>(packed >> 32), static_cast<std::uint32_t>(packed)};
  }
  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

}  // namespace zcpipe::shm
