#include "zcpipe/stages/key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <openssl/crypto.h>

#include "container/container_format.h"
#include "crypto/key_schedule.h"
#include "zcpipe/stages/atomic_file.h"

namespace zcpipe::stages {

using container_detail::Fail;
using container_detail::FailIo;

// --- SecretBytes ---------------------------------------------------------------------------

SecretBytes::SecretBytes(std::size_t size)
    : data_(size == 0 ? nullptr : new std::byte[size]()), size_(size) {}

SecretBytes SecretBytes::CopyOf(std::span<const std::byte> bytes) {
  SecretBytes secret(bytes.size());
  if (!bytes.empty()) std::memcpy(secret.data_.get(), bytes.data(), bytes.size());
  return secret;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  if (data_) OPENSSL_cleanse(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

// --- FileKey -------------------------------------------------------------------------------

ContainerResult<FileKey> FileKey::FromBytes(std::span<const std::byte> bytes) {
  if (bytes.size() != kFileKeySize) {
    return Fail(ContainerErrc::kInvalidArgument,
                "a key is 32 bytes, got " + std::to_string(bytes.size()));
  }
  return FileKey(SecretBytes::CopyOf(bytes));
}

ContainerResult<FileKey> FileKey::Generate() {
  SecretBytes secret(kFileKeySize);
  if (auto filled = container_detail::RandomBytes(secret.span()); !filled) {
    return tl::unexpected(filled.error());
  }
  return FileKey(std::move(secret));
}

// --- Key files -----------------------------------------------------------------------------

ContainerResult<FileKey> ReadKeyFile(const std::filesystem::path& path,
                                     const KeyFileOptions& options, std::string* warning) {
  if (warning != nullptr) warning->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return FailIo(errno, "open key file " + path.string());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat info {};
  if (::fstat(fd, &info) != 0) return FailIo(errno, "stat key file " + path.string());
  if (!S_ISREG(info.st_mode)) {
    return Fail(ContainerErrc::kBadKeyFile, path.string() + " is not a regular file");
  }
  if (info.st_size != static_cast<off_t>(kFileKeySize)) {
    return Fail(ContainerErrc::kBadKeyFile, "key file " + path.string() + " holds " +
                                                std::to_string(info.st_size) +
                                                " bytes; a key file is exactly 32 raw bytes");
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    (void)std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    std::string loose = "key file " + path.string() + " is accessible by group or others (mode " +
                        mode + "); run: chmod 600 " + path.string();
    if (!options.allow_insecure_mode) {
      return Fail(ContainerErrc::kBadKeyFile,
                  loose + " (or accept it: zcpipe --allow-insecure-key-file)");
    }
    if (warning != nullptr) *warning = std::move(loose);
  }
  SecretBytes secret(kFileKeySize + 1);  // one more, to notice a file that grew meanwhile
  std::size_t got = 0;
  while (got < secret.size()) {
    const ssize_t n = ::read(fd, secret.span().data() + got, secret.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FailIo(errno, "read key file " + path.string());
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != kFileKeySize) {
    return Fail(ContainerErrc::kBadKeyFile,
                "key file " + path.string() + " changed size while being read");
  }
  return FileKey::FromBytes(secret.span().first(kFileKeySize));
}

ContainerResult<FileKey> GenerateKeyFile(const std::filesystem::path& path) {
  auto key = FileKey::Generate();
  if (!key) return key;
  auto file = AtomicFile::Create(path, /*replace_existing=*/false);
  if (!file) return tl::unexpected(file.error());
  if (auto written = file->Write(key->bytes()); !written) return tl::unexpected(written.error());
  if (auto committed = file->Commit(); !committed) return tl::unexpected(committed.error());
  return key;
}

// --- Passphrases and credentials -----------------------------------------------------------

std::uint64_t ScryptMemory(const ScryptParams& params) {
  if (params.log2_n >= 40) return UINT64_MAX;  // far above any cap, and no overflow below
  const auto memory = std::uint64_t{128} * (std::uint64_t{1} << params.log2_n);
  const auto rp = std::uint64_t{params.r} * params.p;  // < 2^64: two 32-bit factors
  return rp != 0 && memory > UINT64_MAX / rp ? UINT64_MAX : memory * rp;
}

bool WithinScryptCaps(const ScryptParams& params) {
  if (params.log2_n > kScryptMaxLog2N || params.r > kScryptMaxR || params.p > kScryptMaxP) {
    return false;
  }
  return ScryptMemory(params) <= kScryptMaxMemory;
}

Credential Credential::FromKey(FileKey key) {
  return Credential(KeySource::kRawKey, SecretBytes::CopyOf(key.bytes()), ScryptParams{}, 0);
}

Credential Credential::FromPassphrase(std::string_view passphrase, ScryptParams params,
                                      std::uint64_t max_kdf_memory) {
  return Credential(KeySource::kPassphrase,
                    SecretBytes::CopyOf(std::as_bytes(std::span(passphrase))), params,
                    max_kdf_memory);
}

}  // namespace zcpipe::stages
