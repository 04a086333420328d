// Building, reading and unlocking a .zcp header (docs/format.md, "Header" and "Reading").
// Private to zcpipe::stages.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "container/byte_source.h"
#include "container/container_format.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/key.h"

namespace zcpipe::stages::container_detail {

// A new header and the payload key it commits to.
struct NewHeader {
  std::vector<std::byte> bytes;
  SecretBytes payload_key;
};

// Draws fresh salts, derives the keys and lays out the header.
// Errors: kInvalidArgument (schema too long / not UTF-8, empty passphrase, scrypt parameter 0),
// kParamsAboveCaps, kCrypto.
[[nodiscard]] ContainerResult<NewHeader> BuildHeader(const Credential& credential,
                                                     std::string_view schema);

// A header read from a source and checked as far as possible without a key.
struct ParsedHeader {
  ContainerHeaderInfo info;
  ScryptParams scrypt{0, 0, 0};  // as stored (zeros for a raw key)
  std::vector<std::byte> bytes;  // the whole header

  [[nodiscard]] std::span<const std::byte> field(std::size_t offset, std::size_t size) const {
    return std::span(bytes).subspan(offset, size);
  }
};

// Reads the header at offset 0 and checks, in this order: magic (kNotZcp), version
// (kUnsupportedVersion), schema length cap (kParamsAboveCaps), that the header is complete
// (kTruncated), checksum (kTamperedHeader), algorithm (kUnsupportedAlgorithm), key source
// (kUnsupportedKeySource), scrypt fields (kMalformedHeader, kParamsAboveCaps) and the schema's
// UTF-8 (kMalformedHeader). Errors also: kIo, kCrypto.
[[nodiscard]] ContainerResult<ParsedHeader> ReadHeader(ByteSource& source);

// Derives the keys from `credential` and checks, in this order: key source (kKeySourceMismatch),
// key check value (kWrongKey), header MAC (kTamperedHeader). Returns the payload key.
// Errors also: kCrypto.
[[nodiscard]] ContainerResult<SecretBytes> UnlockHeader(const ParsedHeader& header,
                                                        const Credential& credential);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
[[nodiscard]] bool IsUtf8(std::span<const std::byte> text);

}  // namespace zcpipe::stages::container_detail
