// File-descriptor plumbing for the copying transports (pipe, Unix socket).
#pragma once

#include <unistd.h>
#include <cerrno>
#include <cstddef>
#include <utility>

namespace zcpipe::bench {

// Owns one file descriptor; closes it when destroyed or reset.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] explicit operator bool() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

inline constexpr int kIoEof = -1;  // ReadAll: end of stream before the first byte

// Writes all `size` bytes, looping on partial writes. Returns 0, or the errno that stopped it.
inline int WriteAll(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

// Reads exactly `size` bytes. Returns 0; kIoEof if the stream ended before the first byte (the
// sender's "stop"); EPIPE if it ended in the middle; or the errno that stopped it.
inline int ReadAll(int fd, std::byte* data, std::size_t size) {
  bool started = false;
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return started ? EPIPE : kIoEof;
    started = true;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace zcpipe::bench
