// Errors of the shared-memory layer, returned as values.
//
// Every fallible call in zcpipe::shm returns `Result<T>` (or `Status` when there is no value):
// a tl::expected holding either the value or an `Error`. An `Error` is two words, cheap to
// return on hot and IPC paths; `Describe()` turns it into a message for people.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace zcpipe::shm {

enum class Errc : std::uint8_t {
  kInvalidArgument,  // a caller broke a documented precondition (bad size, capacity, name)
  kSystem,           // the operating system refused; Error::sys_errno says why
  kBadLayout,        // shared memory does not hold the layout we expect (magic, version, size)
  kNotReady,         // the segment's creator has not finished initialising it
  kTooManySegments,  // the per-process cleanup registry is full
  kExhausted,        // no free block in the pool
  kWrongSegment,     // a handle names another segment
  kBlockOutOfRange,  // a handle names a block past the end of the pool
  kStaleHandle,      // a handle's generation is not the block's current one
  kOutOfBounds,      // a handle's offset + length runs past its block
  kNotOwned,         // releasing a block that is not allocated (double release)
  kBusy,             // a ring endpoint is already held by a live process
  kTimeout,          // a timed wait expired
  kPeerGone,         // the process on the other end of a ring died or detached
};

struct Error {
  Errc code;
  int sys_errno = 0;  // errno for kSystem, 0 otherwise

  friend bool operator==(const Error&, const Error&) = default;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

// Shorthand for `return Fail(Errc::kTimeout);` inside functions returning a Result.
inline tl::unexpected<Error> Fail(Errc code, int sys_errno = 0) {
  return tl::unexpected<Error>(Error{code, sys_errno});
}

// A stable, lowercase name for `code` ("stale handle"), for logs and error messages.
const char* Name(Errc code);

// A full message: the code's name, plus strerror(sys_errno) for kSystem.
std::string Describe(const Error& error);

}  // namespace zcpipe::shm
