// The .zcp byte layout (docs/format.md), as constants and big-endian field helpers, plus the
// error constructor shared by the container's sources. Private to zcpipe::stages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "zcpipe/stages/container.h"
#include "zcpipe/stages/container_error.h"

namespace zcpipe::stages::container_detail {

// "\x89ZCP\r\n\x1a\n": a high byte (not text), the name, then CR LF, ^Z, LF — which catch a
// file mangled by a text-mode transfer, as PNG's signature does.
inline constexpr std::array<std::byte, 8> kMagic = {
    std::byte{0x89}, std::byte{'Z'},  std::byte{'C'},  std::byte{'P'},
    std::byte{'\r'}, std::byte{'\n'}, std::byte{0x1a}, std::byte{'\n'}};

// Header fields: offset and size. Integers are unsigned big-endian.
inline constexpr std::size_t kOffMagic = 0;
inline constexpr std::size_t kOffVersion = 8;        // u16
inline constexpr std::size_t kOffAlgorithm = 10;     // u8
inline constexpr std::size_t kOffKeySource = 11;     // u8
inline constexpr std::size_t kOffScryptLog2N = 12;   // u32
inline constexpr std::size_t kOffScryptR = 16;       // u32
inline constexpr std::size_t kOffScryptP = 20;       // u32
inline constexpr std::size_t kOffScryptSalt = 24;    // 16 bytes
inline constexpr std::size_t kOffFileSalt = 40;      // 32 bytes
inline constexpr std::size_t kOffSchemaLength = 72;  // u32
inline constexpr std::size_t kOffSchema = 76;        // schema_length bytes
inline constexpr std::size_t kScryptSaltSize = 16;
inline constexpr std::size_t kFileSaltSize = 32;
inline constexpr std::size_t kHeaderFixedSize = kOffSchema;
// After the schema: key check value, checksum, MAC.
inline constexpr std::size_t kKeyCheckSize = 16;
inline constexpr std::size_t kChecksumSize = 32;  // SHA-256
inline constexpr std::size_t kMacSize = 32;       // HMAC-SHA-256
inline constexpr std::size_t kHeaderTrailerSize = kKeyCheckSize + kChecksumSize + kMacSize;

static_assert(kOffVersion == kOffMagic + kMagic.size());
static_assert(kOffAlgorithm == kOffVersion + 2);
static_assert(kOffKeySource == kOffAlgorithm + 1);
static_assert(kOffScryptLog2N == kOffKeySource + 1);
static_assert(kOffScryptR == kOffScryptLog2N + 4);
static_assert(kOffScryptP == kOffScryptR + 4);
static_assert(kOffScryptSalt == kOffScryptP + 4);
static_assert(kOffFileSalt == kOffScryptSalt + kScryptSaltSize);
static_assert(kOffSchemaLength == kOffFileSalt + kFileSaltSize);
static_assert(kOffSchema == kOffSchemaLength + 4);
static_assert(kHeaderFixedSize == 76 && kHeaderTrailerSize == 80);

// Offsets of the trailer fields in a header whose schema has `schema_size` bytes.
constexpr std::size_t KeyCheckOffset(std::size_t schema_size) { return kOffSchema + schema_size; }
constexpr std::size_t ChecksumOffset(std::size_t schema_size) {
  return KeyCheckOffset(schema_size) + kKeyCheckSize;
}
constexpr std::size_t MacOffset(std::size_t schema_size) {
  return ChecksumOffset(schema_size) + kChecksumSize;
}
constexpr std::size_t HeaderSize(std::size_t schema_size) {
  return MacOffset(schema_size) + kMacSize;
}
static_assert(HeaderSize(0) == 156);

// Frame header: chunk index (u64), last flag (u8: 0 or 1), length (u32) of the ciphertext,
// which equals the plaintext's. Then ciphertext, then the tag.
inline constexpr std::size_t kFrameOffIndex = 0;
inline constexpr std::size_t kFrameOffLast = 8;
inline constexpr std::size_t kFrameOffLength = 9;
static_assert(kFrameOffLength + 4 == kFrameHeaderSize);
static_assert(kMaxChunkPlaintext <= 0x7fffffff, "lengths must fit EVP's int and the u32 field");

// Nonce: 11-byte big-endian chunk index (the top 3 bytes are zero), then the last flag.
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kNonceCounterSize = 11;
static_assert(kNonceCounterSize + 1 == kNonceSize && kNonceCounterSize >= sizeof(std::uint64_t));

inline constexpr std::size_t kKeyBytes = 32;  // AES-256, HMAC-SHA-256 and scrypt output
static_assert(kKeyBytes == kFileKeySize);

template <class T>
T LoadBig(std::span<const std::byte> bytes, std::size_t offset) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value = static_cast<T>((value << 8) | std::to_integer<T>(bytes[offset + i]));
  }
  return value;
}

template <class T>
void StoreBig(std::span<std::byte> bytes, std::size_t offset, T value) {
  for (std::size_t i = sizeof(T); i-- > 0;) {
    bytes[offset + i] = static_cast<std::byte>(value & 0xff);
    value = static_cast<T>(value >> 8);
  }
}

// Shorthand for `return Fail(ContainerErrc::kTruncated, "...", chunk, offset);`.
inline tl::unexpected<ContainerError> Fail(ContainerErrc code, std::string message,
                                           std::optional<std::uint64_t> chunk_index = {},
                                           std::optional<std::uint64_t> byte_offset = {}) {
  return tl::unexpected<ContainerError>(
      ContainerError{code, chunk_index, byte_offset, 0, std::move(message)});
}

// kIo with `sys_errno` and a message naming what failed (e.g. "open /x/y").
inline tl::unexpected<ContainerError> FailIo(int sys_errno, std::string what) {
  return tl::unexpected<ContainerError>(
      ContainerError{ContainerErrc::kIo, {}, {}, sys_errno, std::move(what)});
}

}  // namespace zcpipe::stages::container_detail
