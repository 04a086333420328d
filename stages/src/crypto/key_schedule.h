// The container's key schedule (docs/format.md, "Keys"), over OpenSSL 3 EVP: scrypt for
// passphrases, HKDF-SHA-256 subkeys, SHA-256 header checksum, HMAC-SHA-256 header MAC.
// Private to zcpipe::stages. All functions are thread-safe (no shared state).
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "container/container_format.h"
#include "zcpipe/stages/key.h"

namespace zcpipe::stages::container_detail {

// HKDF info strings; each names exactly one use of the file key.
inline constexpr std::string_view kInfoPayloadKey = "zcpipe/v1 payload key";
inline constexpr std::string_view kInfoHeaderMacKey = "zcpipe/v1 header mac key";
inline constexpr std::string_view kInfoKeyCheck = "zcpipe/v1 key check";

// The file key: the raw key itself, or scrypt(passphrase, scrypt_salt, 2^log2_n, r, p) → 32
// bytes. REQUIRES: the parameters are ≥ 1 and WithinScryptCaps (the callers check: writer →
// kInvalidArgument / kParamsAboveCaps, reader → kMalformedHeader / kParamsAboveCaps).
// Errors: kCrypto.
[[nodiscard]] ContainerResult<SecretBytes> DeriveFileKey(const Credential& credential,
                                                         const ScryptParams& params,
                                                         std::span<const std::byte> scrypt_salt);

struct Subkeys {
  SecretBytes payload_key;  // AES-256-GCM key of every chunk
  SecretBytes mac_key;      // HMAC-SHA-256 key of the header MAC
  std::array<std::byte, kKeyCheckSize> key_check{};
};

// HKDF-SHA-256(ikm = file key, salt = file salt, info = kInfo...) for each subkey.
// Errors: kCrypto.
[[nodiscard]] ContainerResult<Subkeys> DeriveSubkeys(std::span<const std::byte> file_key,
                                                     std::span<const std::byte> file_salt);

[[nodiscard]] ContainerResult<std::array<std::byte, kChecksumSize>> Sha256(
    std::span<const std::byte> data);
[[nodiscard]] ContainerResult<std::array<std::byte, kMacSize>> HmacSha256(
    std::span<const std::byte> key, std::span<const std::byte> data);

// RAND_bytes into `out`. Errors: kCrypto.
[[nodiscard]] ContainerStatus RandomBytes(std::span<std::byte> out);

using stages::SecretsEqual;  // key.h

}  // namespace zcpipe::stages::container_detail
