#include "crypto/key_schedule.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

namespace zcpipe::stages::container_detail {
namespace {

struct KdfFree {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// OSSL_PARAM wants non-const pointers for input strings it only reads.
void* Mutable(std::span<const std::byte> bytes) {
  return const_cast<std::byte*>(bytes.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}
char* Mutable(const char* text) { return const_cast<char*>(text); }  // NOLINT

ContainerStatus Hkdf(std::span<const std::byte> ikm, std::span<const std::byte> salt,
                     std::string_view info, std::span<std::byte> out) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
  if (!kdf) return Fail(ContainerErrc::kCrypto, "HKDF is not available");
  std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return Fail(ContainerErrc::kCrypto, "EVP_KDF_CTX_new failed");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, Mutable(OSSL_DIGEST_NAME_SHA2_256),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, Mutable(ikm), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, Mutable(salt), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                        Mutable(std::as_bytes(std::span(info))), info.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) !=
      1) {
    return Fail(ContainerErrc::kCrypto, "HKDF-SHA-256 failed");
  }
  return {};
}

}  // namespace

ContainerResult<SecretBytes> DeriveFileKey(const Credential& credential, const ScryptParams& params,
                                           std::span<const std::byte> scrypt_salt) {
  if (credential.source() == KeySource::kRawKey) {
    if (credential.secret().size() != kKeyBytes) {
      return Fail(ContainerErrc::kInvalidArgument, "a raw key must be 32 bytes");
    }
    return SecretBytes::CopyOf(credential.secret());
  }
  const std::uint64_t n = std::uint64_t{1} << params.log2_n;
  // OpenSSL's own accounting: V (128·r·(N+2)) plus B (128·r·p); the slack keeps us clear of any
  // rounding in future versions. The format's cap (128·N·r·p ≤ 1 GiB) was checked before.
  const std::uint64_t maxmem = 128 * params.r * (n + 2) + 128 * params.r * params.p + (1u << 20);
  SecretBytes key(kKeyBytes);
  const auto passphrase = credential.secret();
  if (EVP_PBE_scrypt(reinterpret_cast<const char*>(passphrase.data()), passphrase.size(),
                     reinterpret_cast<const unsigned char*>(scrypt_salt.data()), scrypt_salt.size(),
                     n, params.r, params.p, maxmem,
                     reinterpret_cast<unsigned char*>(key.span().data()), key.size()) != 1) {
    return Fail(ContainerErrc::kCrypto, "scrypt failed (out of memory?)");
  }
  return key;
}

ContainerResult<Subkeys> DeriveSubkeys(std::span<const std::byte> file_key,
                                       std::span<const std::byte> file_salt) {
  Subkeys keys{SecretBytes(kKeyBytes), SecretBytes(kKeyBytes), {}};
  if (auto s = Hkdf(file_key, file_salt, kInfoPayloadKey, keys.payload_key.span()); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = Hkdf(file_key, file_salt, kInfoHeaderMacKey, keys.mac_key.span()); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = Hkdf(file_key, file_salt, kInfoKeyCheck, keys.key_check); !s) {
    return tl::unexpected(s.error());
  }
  return keys;
}

ContainerResult<std::array<std::byte, kChecksumSize>> Sha256(std::span<const std::byte> data) {
  std::array<std::byte, kChecksumSize> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &size,
                 EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    return Fail(ContainerErrc::kCrypto, "SHA-256 failed");
  }
  return digest;
}

ContainerResult<std::array<std::byte, kMacSize>> HmacSha256(std::span<const std::byte> key,
                                                            std::span<const std::byte> data) {
  std::unique_ptr<EVP_MAC, KdfFree> mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!mac) return Fail(ContainerErrc::kCrypto, "HMAC is not available");
  std::unique_ptr<EVP_MAC_CTX, KdfFree> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return Fail(ContainerErrc::kCrypto, "EVP_MAC_CTX_new failed");
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                                   OSSL_MAC_PARAM_DIGEST, Mutable(OSSL_DIGEST_NAME_SHA2_256), 0),
                               OSSL_PARAM_construct_end()};
  std::array<std::byte, kMacSize> tag{};
  std::size_t size = 0;
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(tag.data()), &size, tag.size()) !=
          1 ||
      size != tag.size()) {
    return Fail(ContainerErrc::kCrypto, "HMAC-SHA-256 failed");
  }
  return tag;
}

ContainerStatus RandomBytes(std::span<std::byte> out) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) != 1) {
    return Fail(ContainerErrc::kCrypto, "RAND_bytes failed");
  }
  return {};
}

}  // namespace zcpipe::stages::container_detail

namespace zcpipe::stages {

bool SecretsEqual(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace zcpipe::stages
