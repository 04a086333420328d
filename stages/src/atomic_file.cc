#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "container_format.h"

namespace zcpipe::stages {

bool SameFile(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code error;
  if (std::filesystem::equivalent(a, b, error)) return true;
  const auto resolved_a = std::filesystem::weakly_canonical(a, error);
  if (error) return false;
  const auto resolved_b = std::filesystem::weakly_canonical(b, error);
  return !error && resolved_a == resolved_b;
}

namespace container_detail {
namespace {

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

ContainerStatus FsyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FailIo(errno, "open directory " + dir.string());
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return FailIo(saved, "fsync directory " + dir.string());
  return {};
}

tl::unexpected<ContainerError> AlreadyExists(const std::filesystem::path& path) {
  return Fail(ContainerErrc::kAlreadyExists, path.string() + " already exists");
}

}  // namespace

ContainerResult<AtomicFile> AtomicFile::Create(const std::filesystem::path& final_path,
                                               bool replace_existing) {
  if (!final_path.has_filename()) {
    return Fail(ContainerErrc::kInvalidArgument,
                "output path has no file name: " + final_path.string());
  }
  if (!replace_existing) {
    struct stat info {};
    if (::lstat(final_path.c_str(), &info) == 0) return AlreadyExists(final_path);
    if (errno != ENOENT) return FailIo(errno, "stat " + final_path.string());
  }
  AtomicFile file;
  file.final_path_ = final_path;
  file.replace_existing_ = replace_existing;
  std::string pattern =
      (DirectoryOf(final_path) / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
  file.fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);  // mode 0600
  if (file.fd_ < 0) return FailIo(errno, "create temporary file " + pattern);
  file.temp_path_ = pattern;
  file.temp_exists_ = true;
  return file;
}

ContainerResult<AtomicFile> AtomicFile::Resume(const std::filesystem::path& final_path,
                                               const std::filesystem::path& temp_path,
                                               bool replace_existing, std::uint64_t size) {
  if (!replace_existing) {
    struct stat info {};
    if (::lstat(final_path.c_str(), &info) == 0) return AlreadyExists(final_path);
  }
  AtomicFile file;
  file.final_path_ = final_path;
  file.replace_existing_ = replace_existing;
  file.temp_path_ = temp_path;
  file.fd_ = ::open(temp_path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (file.fd_ < 0) return FailIo(errno, "reopen " + temp_path.string());
  file.temp_exists_ = true;
  struct stat info {};
  if (::fstat(file.fd_, &info) != 0) return FailIo(errno, "stat " + temp_path.string());
  if (static_cast<std::uint64_t>(info.st_size) < size) {
    return FailIo(EIO, temp_path.string() + " is shorter than its journal says");
  }
  if (::ftruncate(file.fd_, static_cast<off_t>(size)) != 0 ||
      ::lseek(file.fd_, static_cast<off_t>(size), SEEK_SET) < 0) {
    return FailIo(errno, "truncate " + temp_path.string());
  }
  file.size_ = size;
  return file;
}

ContainerStatus AtomicFile::Sync() {
  if (fd_ < 0) return Fail(ContainerErrc::kInvalidArgument, "file already committed or failed");
  if (::fsync(fd_) != 0) return FailIo(errno, "fsync " + temp_path_.string());
  return {};
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      temp_exists_(std::exchange(other.temp_exists_, false)),
      replace_existing_(other.replace_existing_),
      size_(other.size_),
      final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = std::exchange(other.fd_, -1);
    temp_exists_ = std::exchange(other.temp_exists_, false);
    replace_existing_ = other.replace_existing_;
    size_ = other.size_;
    final_path_ = std::move(other.final_path_);
    temp_path_ = std::move(other.temp_path_);
  }
  return *this;
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Keep() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  temp_exists_ = false;
}

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (temp_exists_) {
    ::unlink(temp_path_.c_str());
    temp_exists_ = false;
  }
}

ContainerStatus AtomicFile::Write(std::span<const std::byte> bytes) {
  if (fd_ < 0) return Fail(ContainerErrc::kInvalidArgument, "file already committed or failed");
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FailIo(errno, "write " + temp_path_.string());
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return {};
}

ContainerStatus AtomicFile::Commit() {
  if (fd_ < 0) return Fail(ContainerErrc::kInvalidArgument, "file already committed or failed");
  if (::fsync(fd_) != 0) return FailIo(errno, "fsync " + temp_path_.string());
  if (::close(std::exchange(fd_, -1)) != 0) return FailIo(errno, "close " + temp_path_.string());

  if (replace_existing_) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return FailIo(errno, "rename to " + final_path_.string());
    }
  } else if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(),
                         RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return AlreadyExists(final_path_);
    if (errno != EINVAL && errno != ENOSYS) {
      return FailIo(errno, "rename to " + final_path_.string());
    }
    // The file system has no RENAME_NOREPLACE: link() refuses to replace too.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      if (errno == EEXIST) return AlreadyExists(final_path_);
      return FailIo(errno, "link to " + final_path_.string());
    }
    ::unlink(temp_path_.c_str());
  }
  temp_exists_ = false;

  if (auto synced = FsyncDirectory(DirectoryOf(final_path_)); !synced) {
    // Not durable: take it back, so that a failed Commit never leaves a file behind.
    ::unlink(final_path_.c_str());
    return synced;
  }
  return {};
}

}  // namespace container_detail
}  // namespace zcpipe::stages
