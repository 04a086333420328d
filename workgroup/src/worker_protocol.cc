#include "worker_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

namespace zcpipe::workgroup::detail {

std::uint64_t MonotonicNanos() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

bool WriteAll(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a dead peer is an error value, not SIGPIPE.
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

bool ReadAll(int fd, std::span<std::byte> bytes) {
  while (!bytes.empty()) {
    const auto n = ::read(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // 0: the peer closed its end
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

ReadOutcome ReadAllBy(int fd, std::span<std::byte> bytes, std::uint64_t deadline_ns) {
  while (!bytes.empty()) {
    const std::uint64_t now = MonotonicNanos();
    if (now >= deadline_ns) return ReadOutcome::kTimedOut;
    pollfd entry{fd, POLLIN, 0};
    const auto wait_ms = static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
    const int ready = ::poll(&entry, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ReadOutcome::kClosed;
    if (ready == 0) continue;  // the deadline check above decides
    const auto n = ::recv(fd, bytes.data(), bytes.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return ReadOutcome::kClosed;  // 0: the peer closed its end
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return ReadOutcome::kDone;
}

bool WriteBlob(int fd, std::span<const std::byte> bytes) {
  const auto size = static_cast<std::uint32_t>(bytes.size());
  return WriteAll(fd, std::as_bytes(std::span(&size, 1))) && WriteAll(fd, bytes);
}

bool ReadBlob(int fd, std::string& out) {
  std::uint32_t size = 0;
  if (!ReadAll(fd, std::as_writable_bytes(std::span(&size, 1)))) return false;
  out.resize(size);
  return ReadAll(fd, std::as_writable_bytes(std::span(out.data(), out.size())));
}

}  // namespace zcpipe::workgroup::detail
