// AtomicFile: temporary file, flock while it is written, publish by rename; SweepTemporaries.
#include "zcpipe/stages/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

#include "container/container_format.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::stages {

bool SameFile(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code error;
  if (std::filesystem::equivalent(a, b, error)) return true;
  const auto resolved_a = std::filesystem::weakly_canonical(a, error);
  if (error) return false;
  const auto resolved_b = std::filesystem::weakly_canonical(b, error);
  return !error && resolved_a == resolved_b;
}

namespace {

using container_detail::Fail;
using container_detail::FailIo;

constexpr std::string_view kTempInfix = ".tmp-";
constexpr std::size_t kTempSuffixSize = 6;  // mkostemp's XXXXXX
constexpr int kCreateAttempts = 8;

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

std::string TempPrefix(const std::filesystem::path& final_path) {
  return "." + final_path.filename().string() + std::string(kTempInfix);
}

// Whether `name` is TempPrefix + six letters or digits (mkostemp's alphabet).
bool IsTempName(std::string_view name, std::string_view prefix) {
  if (name.size() != prefix.size() + kTempSuffixSize || !name.starts_with(prefix)) return false;
  for (const char c : name.substr(prefix.size())) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
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

ContainerStatus RefuseExisting(const std::filesystem::path& final_path) {
  struct stat info {};
  if (::lstat(final_path.c_str(), &info) == 0) return AlreadyExists(final_path);
  if (errno != ENOENT) return FailIo(errno, "stat " + final_path.string());
  return {};
}

bool SameInode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// What became of one temporary file in a sweep.
enum class Fate { kNotOurs, kLive, kRemoved, kFailed };

// Removes `path` if it is the caller's regular file and no one holds its lock; `why` says what
// failed. Holding the lock while unlinking, after checking that the name still leads to the
// locked file, is what keeps a sweep from removing a live writer's file (see Create).
Fate SweepOne(const std::filesystem::path& path, bool dry_run, std::string& why) {
  struct stat named {};
  if (::lstat(path.c_str(), &named) != 0 || !S_ISREG(named.st_mode) ||
      named.st_uid != ::geteuid()) {
    return Fate::kNotOurs;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fate::kNotOurs;  // its writer published or removed it meanwhile
    why = std::error_code(errno, std::generic_category()).message();
    return Fate::kFailed;
  }
  Fate fate = Fate::kRemoved;
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || !SameInode(named, opened)) {
    fate = Fate::kNotOurs;  // replaced meanwhile: look again next time
  } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      fate = Fate::kLive;
    } else {
      why = "flock: " + std::error_code(errno, std::generic_category()).message();
      fate = Fate::kFailed;
    }
  } else if (!dry_run) {
    struct stat now {};
    if (::lstat(path.c_str(), &now) != 0 || !SameInode(now, opened)) {
      fate = Fate::kNotOurs;  // renamed away (published) before we locked it
    } else if (::unlink(path.c_str()) != 0) {
      why = std::error_code(errno, std::generic_category()).message();
      fate = Fate::kFailed;
    }
  }
  ::close(fd);
  return fate;
}

}  // namespace

bool IsTemporaryOf(const std::filesystem::path& final_path,
                   const std::filesystem::path& candidate) {
  return final_path.has_filename() && DirectoryOf(candidate) == DirectoryOf(final_path) &&
         IsTempName(candidate.filename().string(), TempPrefix(final_path));
}

ContainerStatus RequireTemporaryOf(const std::filesystem::path& final_path,
                                   const std::filesystem::path& candidate) {
  if (IsTemporaryOf(final_path, candidate)) return {};
  return Fail(ContainerErrc::kInvalidArgument,
              candidate.string() + " is not a temporary file of " + final_path.string());
}

TemporarySweep SweepTemporaries(const std::filesystem::path& final_path, bool dry_run) {
  TemporarySweep sweep;
  if (!final_path.has_filename()) return sweep;
  const std::string prefix = TempPrefix(final_path);
  std::error_code error;
  std::filesystem::directory_iterator entries(DirectoryOf(final_path), error);
  for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
    if (!IsTempName(entries->path().filename().string(), prefix)) continue;
    const auto& path = entries->path();
    std::string why;
    switch (SweepOne(path, dry_run, why)) {
      case Fate::kNotOurs:
        break;
      case Fate::kLive:
        sweep.live.push_back(path);
        break;
      case Fate::kRemoved:
        sweep.removed.push_back(path);
        break;
      case Fate::kFailed:
        sweep.failed.emplace_back(path, std::move(why));
        break;
    }
  }
  return sweep;
}

ContainerResult<AtomicFile> AtomicFile::Create(const std::filesystem::path& final_path,
                                               bool replace_existing) {
  if (!final_path.has_filename()) {
    return Fail(ContainerErrc::kInvalidArgument,
                "output path has no file name: " + final_path.string());
  }
  if (!replace_existing) {
    if (auto free = RefuseExisting(final_path); !free) return tl::unexpected(free.error());
  }
  AtomicFile file;
  file.final_path_ = final_path;
  file.replace_existing_ = replace_existing;
  for (int attempt = 0;; ++attempt) {
    std::string pattern = (DirectoryOf(final_path) / (TempPrefix(final_path) + "XXXXXX")).string();
    file.fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (file.fd_ < 0) return FailIo(errno, "create temporary file " + pattern);
    file.temp_path_ = pattern;
    file.temp_exists_ = true;
    // A sweep may have locked and removed the new file before this lock: then it is unlinked,
    // and another one is made. (Blocking: a sweep holds a lock only for an instant.)
    struct stat info {};
    if (::fchmod(file.fd_, 0600) != 0 || ::flock(file.fd_, LOCK_EX) != 0 ||
        ::fstat(file.fd_, &info) != 0) {
      return FailIo(errno, "lock temporary file " + pattern);
    }
    if (info.st_nlink > 0) break;
    file.temp_exists_ = false;
    ::close(std::exchange(file.fd_, -1));
    if (attempt + 1 == kCreateAttempts) return FailIo(EAGAIN, "create temporary file " + pattern);
  }
  (void)SweepTemporaries(final_path);  // dead writers' leftovers; this one is locked
  return file;
}

ContainerResult<AtomicFile> AtomicFile::Resume(const std::filesystem::path& final_path,
                                               const std::filesystem::path& temp_path,
                                               bool replace_existing, std::uint64_t size) {
  if (auto named = RequireTemporaryOf(final_path, temp_path); !named) {
    return tl::unexpected(named.error());
  }
  if (!replace_existing) {
    if (auto free = RefuseExisting(final_path); !free) return tl::unexpected(free.error());
  }
  AtomicFile file;
  file.final_path_ = final_path;
  file.replace_existing_ = replace_existing;
  file.temp_path_ = temp_path;
  file.fd_ = ::open(temp_path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (file.fd_ < 0) return FailIo(errno, "reopen " + temp_path.string());
  if (::flock(file.fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailIo(EBUSY, temp_path.string() + " is being written by a running process");
    }
    return FailIo(errno, "lock " + temp_path.string());
  }
  struct stat info {};
  if (::fstat(file.fd_, &info) != 0) return FailIo(errno, "stat " + temp_path.string());
  if (!S_ISREG(info.st_mode) || info.st_uid != ::geteuid() || info.st_nlink == 0) {
    return FailIo(EPERM, temp_path.string() + " is not a temporary file of this user");
  }
  file.temp_exists_ = true;  // locked and ours: a failure from here on removes it
  if (static_cast<std::uint64_t>(info.st_size) < size) {
    return FailIo(EIO, temp_path.string() + " is shorter than its journal says");
  }
  if (::ftruncate(file.fd_, static_cast<off_t>(size)) != 0 ||
      ::lseek(file.fd_, static_cast<off_t>(size), SEEK_SET) < 0) {
    return FailIo(errno, "truncate " + temp_path.string());
  }
  file.size_ = size;
  (void)SweepTemporaries(final_path);  // other dead writers' leftovers; this one is locked
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
  if (temp_exists_) {  // unlinked while still locked: no sweep sees it half-gone
    ::unlink(temp_path_.c_str());
    temp_exists_ = false;
  }
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
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
  // The descriptor, and so the lock, stays open across the rename: a sweep cannot take the
  // temporary file away between the fsync and the rename.
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

  auto synced = ::close(std::exchange(fd_, -1)) == 0
                    ? FsyncDirectory(DirectoryOf(final_path_))
                    : ContainerStatus(FailIo(errno, "close " + final_path_.string()));
  if (!synced) {
    // Not durable: take it back, so that a failed Commit never leaves a file behind.
    ::unlink(final_path_.c_str());
    return synced;
  }
  return {};
}

}  // namespace zcpipe::stages
