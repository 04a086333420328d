// Errors of the .zcp container and its keys, returned as values.
//
// Every fallible call in container.h and key.h returns `ContainerResult<T>` (or
// `ContainerStatus` when there is no value): a tl::expected holding the value or a
// `ContainerError`. Each way a container can be rejected has its own code, so that callers and
// tests can tell a wrong key from a tampered header, a reordered chunk from a tampered one.
// docs/format.md says, for each code, which check of the file produces it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <tl/expected.hpp>

namespace zcpipe::stages {

enum class ContainerErrc : std::uint8_t {
  // The caller's or the environment's fault.
  kInvalidArgument,  // a caller broke a documented precondition (buffer too small, bad order...)
  kIo,               // the operating system refused; ContainerError::sys_errno says why
  kAlreadyExists,    // the destination exists and replacing it was not asked for
  kBadKeyFile,       // a key file is not a regular file of exactly 32 bytes
  kCrypto,           // OpenSSL failed for a reason that is not the input's fault
  kCancelled,        // the caller asked to stop (ExportOptions::cancel)
  // The file is not something this version reads.
  kNotZcp,                // bad magic: not a .zcp file
  kUnsupportedVersion,    // format version other than 1
  kUnsupportedAlgorithm,  // algorithm id other than AES-256-GCM (checksum-valid header)
  kUnsupportedKeySource,  // key-source id unknown (checksum-valid header)
  kParamsAboveCaps,       // scrypt parameters or schema length above the reader's caps
  kMalformedHeader,       // checksum-valid header whose fields contradict each other
  kKeySourceMismatch,     // a raw key given for a passphrase file, or the other way round
  // The file was damaged or tampered with, or the key is not its key.
  kTamperedHeader,   // header checksum or header MAC mismatch
  kWrongKey,         // the key check value does not match: not this file's key or passphrase
  kTamperedChunk,    // a chunk frame fails authentication (or its clear frame header is invalid)
  kReorderedChunk,   // an authentic chunk appears before its turn (moved, or one before it removed)
  kDuplicatedChunk,  // an authentic chunk appears again after it was already read
  kTruncated,        // the file ends before its verified final chunk (or inside the header)
  kTrailingBytes,    // bytes follow the verified final chunk
  // Authentic, but not what the reader expects inside.
  kNotRecordBatches,  // a verified chunk does not hold a zcpipe record batch (export.h)
};

struct ContainerError {
  ContainerErrc code = ContainerErrc::kInvalidArgument;
  // For errors about a chunk: its position in the file (0-based), which is the index the reader
  // expected there. Absent for header and non-chunk errors.
  std::optional<std::uint64_t> chunk_index;
  // Where in the container file the offending field or frame starts. Absent when the error is
  // not about a place in a file (e.g. kInvalidArgument).
  std::optional<std::uint64_t> byte_offset;
  int sys_errno = 0;    // errno for kIo, 0 otherwise
  std::string message;  // for people: what exactly was wrong
};

template <class T>
using ContainerResult = tl::expected<T, ContainerError>;
using ContainerStatus = tl::expected<void, ContainerError>;

// A stable, lowercase name for `code` ("tampered chunk"), for logs and messages.
[[nodiscard]] const char* Name(ContainerErrc code);

// Whether the system failed to store or read the bytes: out of space (ENOSPC, EDQUOT), a file
// too large for the file system (EFBIG), an I/O error (EIO). Such a failure is not about the
// files or keys given (zcpipe exits with 1 for it, as for any error that is not the input's).
[[nodiscard]] bool IsSystemFailure(const ContainerError& error);

// A full message: "tampered chunk (chunk 3, byte 4242): authentication failed", plus
// strerror(sys_errno) for kIo.
[[nodiscard]] std::string Describe(const ContainerError& error);

}  // namespace zcpipe::stages
