#include "container/container_header.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "crypto/key_schedule.h"

namespace zcpipe::stages::container_detail {
namespace {

constexpr std::uint8_t kAlgorithmAes256Gcm =
    static_cast<std::uint8_t>(ContainerAlgorithm::kAes256Gcm);

ContainerStatus CheckScryptForWriting(const ScryptParams& params) {
  if (params.log2_n == 0 || params.r == 0 || params.p == 0) {
    return Fail(ContainerErrc::kInvalidArgument, "scrypt log2(N), r and p must be at least 1");
  }
  if (!WithinScryptCaps(params)) {
    return Fail(ContainerErrc::kParamsAboveCaps,
                "scrypt parameters above the caps (log2 N <= 20, r <= 32, p <= 16, "
                "128*N*r*p <= 1 GiB)");
  }
  return {};
}

bool AllZero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

bool IsUtf8(std::span<const std::byte> text) {
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return std::to_integer<unsigned>(text[k]); };
  while (i < text.size()) {
    const unsigned lead = at(i);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t continuation = 0;
    unsigned low = 0x80;  // bounds of the first continuation byte
    unsigned high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i <= continuation) return false;
    if (at(i + 1) < low || at(i + 1) > high) return false;
    for (std::size_t k = 2; k <= continuation; ++k) {
      if ((at(i + k) & 0xC0) != 0x80) return false;
    }
    i += continuation + 1;
  }
  return true;
}

ContainerResult<NewHeader> BuildHeader(const Credential& credential, std::string_view schema) {
  const auto schema_bytes = std::as_bytes(std::span(schema));
  if (schema.size() > kMaxSchemaSize) {
    return Fail(ContainerErrc::kInvalidArgument,
                "schema of " + std::to_string(schema.size()) + " bytes exceeds the 1 MiB cap");
  }
  if (!IsUtf8(schema_bytes)) return Fail(ContainerErrc::kInvalidArgument, "schema is not UTF-8");

  std::vector<std::byte> bytes(HeaderSize(schema.size()));
  const std::span<std::byte> out(bytes);
  std::copy(kMagic.begin(), kMagic.end(), out.begin());
  StoreBig<std::uint16_t>(out, kOffVersion, kZcpVersion);
  out[kOffAlgorithm] = std::byte{kAlgorithmAes256Gcm};
  out[kOffKeySource] = static_cast<std::byte>(credential.source());

  ScryptParams params{0, 0, 0};
  const auto scrypt_salt = out.subspan(kOffScryptSalt, kScryptSaltSize);
  switch (credential.source()) {
    case KeySource::kRawKey:
      break;  // scrypt fields stay zero
    case KeySource::kPassphrase: {
      if (credential.secret().empty()) {
        return Fail(ContainerErrc::kInvalidArgument, "the passphrase is empty");
      }
      params = credential.scrypt();
      if (auto ok = CheckScryptForWriting(params); !ok) return tl::unexpected(ok.error());
      if (auto ok = RandomBytes(scrypt_salt); !ok) return tl::unexpected(ok.error());
      break;
    }
    default:
      return Fail(ContainerErrc::kInvalidArgument, "unknown key source");
  }
  StoreBig<std::uint32_t>(out, kOffScryptLog2N, params.log2_n);
  StoreBig<std::uint32_t>(out, kOffScryptR, params.r);
  StoreBig<std::uint32_t>(out, kOffScryptP, params.p);
  const auto file_salt = out.subspan(kOffFileSalt, kFileSaltSize);
  if (auto ok = RandomBytes(file_salt); !ok) return tl::unexpected(ok.error());
  StoreBig<std::uint32_t>(out, kOffSchemaLength, static_cast<std::uint32_t>(schema.size()));
  std::copy(schema_bytes.begin(), schema_bytes.end(), out.begin() + kOffSchema);

  auto file_key = DeriveFileKey(credential, params, scrypt_salt);
  if (!file_key) return tl::unexpected(file_key.error());
  auto keys = DeriveSubkeys(file_key->span(), file_salt);
  if (!keys) return tl::unexpected(keys.error());
  const std::size_t key_check_at = KeyCheckOffset(schema.size());
  std::copy(keys->key_check.begin(), keys->key_check.end(), out.begin() + key_check_at);
  const std::size_t checksum_at = ChecksumOffset(schema.size());
  auto checksum = Sha256(out.first(checksum_at));
  if (!checksum) return tl::unexpected(checksum.error());
  std::copy(checksum->begin(), checksum->end(), out.begin() + checksum_at);
  const std::size_t mac_at = MacOffset(schema.size());
  auto mac = HmacSha256(keys->mac_key.span(), out.first(mac_at));
  if (!mac) return tl::unexpected(mac.error());
  std::copy(mac->begin(), mac->end(), out.begin() + mac_at);
  return NewHeader{std::move(bytes), std::move(keys->payload_key)};
}

ContainerResult<ParsedHeader> ReadHeader(ByteSource& source) {
  ParsedHeader header;
  header.bytes.resize(kHeaderFixedSize);
  auto got = source.ReadAt(0, header.bytes);
  if (!got) return tl::unexpected(got.error());
  const std::size_t n = *got;
  if (n == 0) return Fail(ContainerErrc::kNotZcp, "the file is empty", {}, 0);
  const std::size_t magic_bytes = std::min(n, kMagic.size());
  if (std::memcmp(header.bytes.data(), kMagic.data(), magic_bytes) != 0) {
    return Fail(ContainerErrc::kNotZcp, "no .zcp magic at the start of the file", {}, 0);
  }
  if (n < kOffVersion + 2) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside the header", {}, n);
  }
  const std::span<const std::byte> fixed(header.bytes);
  const auto version = LoadBig<std::uint16_t>(fixed, kOffVersion);
  if (version != kZcpVersion) {
    return Fail(ContainerErrc::kUnsupportedVersion,
                "format version " + std::to_string(version) + ", this reader knows 1", {},
                kOffVersion);
  }
  if (n < kHeaderFixedSize) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside the header", {}, n);
  }
  const auto schema_size = LoadBig<std::uint32_t>(fixed, kOffSchemaLength);
  if (schema_size > kMaxSchemaSize) {
    return Fail(ContainerErrc::kParamsAboveCaps,
                "schema of " + std::to_string(schema_size) + " bytes exceeds the 1 MiB cap", {},
                kOffSchemaLength);
  }
  const std::size_t header_size = HeaderSize(schema_size);
  if (source.size() < header_size) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside the header", {}, source.size());
  }
  header.bytes.resize(header_size);
  auto rest = source.ReadAt(kHeaderFixedSize, std::span(header.bytes).subspan(kHeaderFixedSize));
  if (!rest) return tl::unexpected(rest.error());
  if (*rest != header_size - kHeaderFixedSize) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside the header", {},
                kHeaderFixedSize + *rest);
  }

  const std::span<const std::byte> all(header.bytes);
  const std::size_t checksum_at = ChecksumOffset(schema_size);
  auto checksum = Sha256(all.first(checksum_at));
  if (!checksum) return tl::unexpected(checksum.error());
  if (!SecretsEqual(*checksum, all.subspan(checksum_at, kChecksumSize))) {
    return Fail(ContainerErrc::kTamperedHeader, "header checksum mismatch: the header is damaged",
                {}, checksum_at);
  }

  const auto algorithm = std::to_integer<std::uint8_t>(all[kOffAlgorithm]);
  if (algorithm != kAlgorithmAes256Gcm) {
    return Fail(ContainerErrc::kUnsupportedAlgorithm,
                "algorithm id " + std::to_string(algorithm) + ", this reader knows 1 (AES-256-GCM)",
                {}, kOffAlgorithm);
  }
  const auto source_id = std::to_integer<std::uint8_t>(all[kOffKeySource]);
  header.scrypt = {LoadBig<std::uint32_t>(all, kOffScryptLog2N),
                   LoadBig<std::uint32_t>(all, kOffScryptR),
                   LoadBig<std::uint32_t>(all, kOffScryptP)};
  const auto scrypt_salt = all.subspan(kOffScryptSalt, kScryptSaltSize);
  if (source_id == static_cast<std::uint8_t>(KeySource::kRawKey)) {
    if (header.scrypt != ScryptParams{0, 0, 0} || !AllZero(scrypt_salt)) {
      return Fail(ContainerErrc::kMalformedHeader, "scrypt fields set for a raw-key file", {},
                  kOffScryptLog2N);
    }
  } else if (source_id == static_cast<std::uint8_t>(KeySource::kPassphrase)) {
    if (header.scrypt.log2_n == 0 || header.scrypt.r == 0 || header.scrypt.p == 0) {
      return Fail(ContainerErrc::kMalformedHeader, "scrypt parameter 0", {}, kOffScryptLog2N);
    }
    if (!WithinScryptCaps(header.scrypt)) {
      return Fail(ContainerErrc::kParamsAboveCaps,
                  "scrypt log2 N = " + std::to_string(header.scrypt.log2_n) + ", r = " +
                      std::to_string(header.scrypt.r) + ", p = " + std::to_string(header.scrypt.p) +
                      " above the caps (log2 N <= 20, r <= 32, p <= 16, 128*N*r*p <= 1 GiB)",
                  {}, kOffScryptLog2N);
    }
    header.info.scrypt = header.scrypt;
  } else {
    return Fail(ContainerErrc::kUnsupportedKeySource,
                "key source id " + std::to_string(source_id) + ", this reader knows 1 and 2", {},
                kOffKeySource);
  }
  const auto schema = all.subspan(kOffSchema, schema_size);
  if (!IsUtf8(schema)) {
    return Fail(ContainerErrc::kMalformedHeader, "schema is not UTF-8", {}, kOffSchema);
  }

  header.info.version = version;
  header.info.algorithm = ContainerAlgorithm::kAes256Gcm;
  header.info.key_source = static_cast<KeySource>(source_id);
  header.info.schema.assign(reinterpret_cast<const char*>(schema.data()), schema.size());
  header.info.header_size = header_size;
  return header;
}

ContainerResult<SecretBytes> UnlockHeader(const ParsedHeader& header,
                                          const Credential& credential) {
  if (credential.source() != header.info.key_source) {
    return Fail(ContainerErrc::kKeySourceMismatch,
                header.info.key_source == KeySource::kPassphrase
                    ? "the file is protected by a passphrase, a raw key was given"
                    : "the file is protected by a raw key, a passphrase was given",
                {}, kOffKeySource);
  }
  if (credential.source() == KeySource::kPassphrase &&
      ScryptMemory(header.scrypt) > credential.max_kdf_memory()) {
    return Fail(ContainerErrc::kParamsAboveCaps,
                "its passphrase's scrypt needs " +
                    std::to_string(ScryptMemory(header.scrypt) >> 20) +
                    " MiB, above this reader's limit of " +
                    std::to_string(credential.max_kdf_memory() >> 20) +
                    " MiB (raise it if you trust the file: zcpipe --max-kdf-memory)",
                {}, kOffScryptLog2N);
  }
  auto file_key =
      DeriveFileKey(credential, header.scrypt, header.field(kOffScryptSalt, kScryptSaltSize));
  if (!file_key) return tl::unexpected(file_key.error());
  auto keys = DeriveSubkeys(file_key->span(), header.field(kOffFileSalt, kFileSaltSize));
  if (!keys) return tl::unexpected(keys.error());

  const std::size_t schema_size = header.info.schema.size();
  const std::size_t key_check_at = KeyCheckOffset(schema_size);
  if (!SecretsEqual(keys->key_check, header.field(key_check_at, kKeyCheckSize))) {
    return Fail(ContainerErrc::kWrongKey,
                credential.source() == KeySource::kPassphrase
                    ? "wrong passphrase: the key check value does not match"
                    : "wrong key: the key check value does not match",
                {}, key_check_at);
  }
  const std::size_t mac_at = MacOffset(schema_size);
  auto mac = HmacSha256(keys->mac_key.span(), header.field(0, mac_at));
  if (!mac) return tl::unexpected(mac.error());
  if (!SecretsEqual(*mac, header.field(mac_at, kMacSize))) {
    return Fail(ContainerErrc::kTamperedHeader, "header MAC mismatch: the header was modified", {},
                mac_at);
  }
  return std::move(keys->payload_key);
}

}  // namespace zcpipe::stages::container_detail
