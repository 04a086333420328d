// Keys of the .zcp container: secret bytes that wipe themselves, 32-byte file keys, key files,
// passphrases with their scrypt parameters, and the credential that unlocks a container.
//
// Keys never come from a command line: a FileKey comes from a key file or from bytes the caller
// holds, a passphrase from a string the caller read (a prompt, a file descriptor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "zcpipe/stages/container_error.h"

namespace zcpipe::stages {

inline constexpr std::size_t kFileKeySize = 32;  // AES-256 / HKDF input key, raw key files

// A heap buffer of secret bytes, wiped with OPENSSL_cleanse when destroyed or assigned over.
// Move-only, so that a secret is never copied implicitly; a move hands over the buffer itself
// and leaves the source empty (size 0), so no second copy exists.
// Thread-safety: like a std::vector — concurrent reads are safe, writes need exclusion.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  // An explicit copy of `bytes` (the caller keeps, and wipes, its own).
  [[nodiscard]] static SecretBytes CopyOf(std::span<const std::byte> bytes);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::span<std::byte> span() { return {data_.get(), size_}; }
  [[nodiscard]] std::span<const std::byte> span() const { return {data_.get(), size_}; }

 private:
  void Wipe();
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};

// Whether `a` and `b` are the same bytes, in time that depends on their sizes only
// (CRYPTO_memcmp): for comparing secrets.
[[nodiscard]] bool SecretsEqual(std::span<const std::byte> a, std::span<const std::byte> b);

// A 32-byte key: the input of the container's key schedule when a raw key is used. Move-only;
// wiped on destruction (it holds a SecretBytes).
class FileKey {
 public:
  // REQUIRES: bytes.size() == kFileKeySize, else kInvalidArgument.
  [[nodiscard]] static ContainerResult<FileKey> FromBytes(std::span<const std::byte> bytes);
  // 32 bytes from the OpenSSL CSPRNG (RAND_bytes). Errors: kCrypto.
  [[nodiscard]] static ContainerResult<FileKey> Generate();

  FileKey(FileKey&&) noexcept = default;
  FileKey& operator=(FileKey&&) noexcept = default;

  // Empty (size 0) only after being moved from.
  [[nodiscard]] std::span<const std::byte> bytes() const { return secret_.span(); }

 private:
  explicit FileKey(SecretBytes secret) : secret_(std::move(secret)) {}
  SecretBytes secret_;
};

struct KeyFileOptions {
  // Accept a key file that group or others may read (or write): anyone who can read it can
  // decrypt every container made with it. Refused unless set.
  bool allow_insecure_mode = false;
};

// Reads a raw key file: exactly 32 bytes, nothing else (no newline, no encoding).
// A key file accessible by group or others is refused before a byte of it is read (kBadKeyFile,
// the message says `chmod 600`), unless options.allow_insecure_mode; then `*warning` (when not
// null) receives that sentence, and is cleared otherwise.
// Errors: kIo (cannot open or read; sys_errno), kBadKeyFile (not a regular file, wrong size,
// accessible by group or others).
[[nodiscard]] ContainerResult<FileKey> ReadKeyFile(const std::filesystem::path& path,
                                                   const KeyFileOptions& options = {},
                                                   std::string* warning = nullptr);

// Generates a key and writes it as a new key file, mode 0600, durably (temporary file, fsync,
// rename without replacing, fsync of the directory). Never overwrites: an existing `path`
// (even a dangling symlink) gives kAlreadyExists and is left untouched.
// Returns the key it wrote. Errors: kAlreadyExists, kIo, kCrypto.
[[nodiscard]] ContainerResult<FileKey> GenerateKeyFile(const std::filesystem::path& path);

// How a container's file key is obtained; recorded in the container header.
enum class KeySource : std::uint8_t {
  kRawKey = 1,      // a 32-byte FileKey
  kPassphrase = 2,  // scrypt(passphrase, salt, N, r, p) with parameters stored in the header
};

// scrypt cost parameters: N = 2^log2_n. The defaults cost 32 MiB (128·N·r·p) and a few tenths
// of a second.
struct ScryptParams {
  std::uint32_t log2_n = 15;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
  friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

// The caps every reader and writer enforces, part of the file format (docs/format.md): a file
// whose parameters exceed them is rejected with kParamsAboveCaps before any work is done.
inline constexpr std::uint32_t kScryptMaxLog2N = 20;
inline constexpr std::uint32_t kScryptMaxR = 32;
inline constexpr std::uint32_t kScryptMaxP = 16;
inline constexpr std::uint64_t kScryptMaxMemory = std::uint64_t{1} << 30;  // 128·N·r·p, bytes

// The memory scrypt needs for `params`: 128·N·r·p bytes.
[[nodiscard]] std::uint64_t ScryptMemory(const ScryptParams& params);

// How much memory a reader lets a container's scrypt parameters cost by default: 256 MiB, 8
// times what writers use by default (ScryptParams{}, 32 MiB), and a quarter of the format's cap
// (kScryptMaxMemory), where a crafted header costs 1 GiB and seconds before "wrong key".
inline constexpr std::uint64_t kDefaultMaxKdfMemory = std::uint64_t{256} << 20;

// True when log2_n, r and p are each within their cap and 128·N·r·p ≤ kScryptMaxMemory.
// (Whether they are usable at all — log2_n, r, p ≥ 1 — is a separate check.)
[[nodiscard]] bool WithinScryptCaps(const ScryptParams& params);

// What unlocks a container: a FileKey, or a passphrase (with the scrypt parameters used when a
// new container is written; a reader takes them from the header instead). Move-only; the
// passphrase is copied into a SecretBytes and wiped with it.
// Thread-safety: immutable after construction; share it by const reference freely.
class Credential {
 public:
  [[nodiscard]] static Credential FromKey(FileKey key);
  // `max_kdf_memory`: a container whose scrypt parameters need more (ScryptMemory) is refused
  // with kParamsAboveCaps before scrypt runs, when this credential opens it.
  [[nodiscard]] static Credential FromPassphrase(
      std::string_view passphrase, ScryptParams params = {},
      std::uint64_t max_kdf_memory = kDefaultMaxKdfMemory);

  Credential(Credential&&) noexcept = default;
  Credential& operator=(Credential&&) noexcept = default;

  [[nodiscard]] KeySource source() const { return source_; }
  // The key bytes (kRawKey) or the passphrase's UTF-8 bytes (kPassphrase).
  [[nodiscard]] std::span<const std::byte> secret() const { return secret_.span(); }
  // Meaningful for kPassphrase only: the parameters a writer uses.
  [[nodiscard]] const ScryptParams& scrypt() const { return scrypt_; }
  // Meaningful for kPassphrase only: the most memory a container's scrypt may need to be opened.
  [[nodiscard]] std::uint64_t max_kdf_memory() const { return max_kdf_memory_; }

 private:
  Credential(KeySource source, SecretBytes secret, ScryptParams params,
             std::uint64_t max_kdf_memory)
      : source_(source),
        secret_(std::move(secret)),
        scrypt_(params),
        max_kdf_memory_(max_kdf_memory) {}
  KeySource source_;
  SecretBytes secret_;
  ScryptParams scrypt_;
  std::uint64_t max_kdf_memory_;
};

}  // namespace zcpipe::stages
