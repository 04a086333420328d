#include "container/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "container/container_format.h"

namespace zcpipe::stages::container_detail {
namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::uint64_t size, std::filesystem::path path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override { ::close(fd_); }

  std::uint64_t size() const override { return size_; }

  ContainerResult<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> out) override {
    std::size_t got = 0;
    while (got < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
      if (n < 0) {
        if (errno == EINTR) continue;
        return FailIo(errno, "read " + path_.string());
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    return got;
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::filesystem::path path_;
};

class BufferSource final : public ByteSource {
 public:
  explicit BufferSource(std::span<const std::byte> bytes) : bytes_(bytes) {}

  std::uint64_t size() const override { return bytes_.size(); }

  ContainerResult<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> out) override {
    if (offset >= bytes_.size()) return std::size_t{0};
    const std::size_t n = std::min<std::uint64_t>(out.size(), bytes_.size() - offset);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + offset, n);
    return n;
  }

 private:
  std::span<const std::byte> bytes_;
};

}  // namespace

ContainerResult<std::unique_ptr<ByteSource>> OpenFileSource(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return FailIo(errno, "open " + path.string());
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int saved = errno;
    ::close(fd);
    return FailIo(saved, "stat " + path.string());
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return FailIo(EISDIR, "open " + path.string());
  }
  return std::make_unique<FileSource>(fd, static_cast<std::uint64_t>(info.st_size), path);
}

std::unique_ptr<ByteSource> MemorySource(std::span<const std::byte> bytes) {
  return std::make_unique<BufferSource>(bytes);
}

}  // namespace zcpipe::stages::container_detail
