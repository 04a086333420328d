// The two copying fd transports, a Unix socket pair and a pair of pipes, opened the same way
// for bench_handoff and bench_messages.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "fd_io.h"
#include "transport_support.h"

namespace zcpipe::bench {

// One process's ends of an fd transport; `ack` is empty when acks share the data descriptor.
struct FdEnds {
  UniqueFd data;
  UniqueFd ack;
  [[nodiscard]] int ack_fd() const { return ack ? ack.get() : data.get(); }
};
struct FdChannel {
  FdEnds parent;  // writes the payload, reads the ack
  FdEnds peer;    // reads the payload, writes the ack
};

// SO_SNDBUF / SO_RCVBUF for the Unix socket (forced past net.core.*mem_max when allowed).
inline constexpr int kSocketBufferBytes = 4 << 20;

// Sets a socket buffer size, past the sysctl limit if this process may (SO_*BUFFORCE).
inline bool SetSocketBuffer(int fd, int force_option, int option, int value) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &value, sizeof value) == 0) return true;
  return ::setsockopt(fd, SOL_SOCKET, option, &value, sizeof value) == 0;
}

// socketpair(AF_UNIX, SOCK_STREAM) with kSocketBufferBytes buffers; acks share the socket.
inline tl::expected<FdChannel, std::string> OpenUnixSocket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return tl::unexpected(Errno("socketpair"));
  }
  FdChannel channel{.parent = {UniqueFd(fds[0]), {}}, .peer = {UniqueFd(fds[1]), {}}};
  for (int fd : {fds[0], fds[1]}) {
    if (!SetSocketBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, kSocketBufferBytes) ||
        !SetSocketBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, kSocketBufferBytes)) {
      return tl::unexpected(Errno("setsockopt"));
    }
  }
  return channel;
}

// The largest pipe capacity an unprivileged process may ask for.
inline int PipeMaxSize() {
  int size = 1 << 20;
  if (std::FILE* file = std::fopen("/proc/sys/fs/pipe-max-size", "r")) {
    if (std::fscanf(file, "%d", &size) != 1) size = 1 << 20;
    static_cast<void>(std::fclose(file));  // read-only: nothing to lose
  }
  return size;
}

// Two pipes, data and ack; the data pipe raised to /proc/sys/fs/pipe-max-size.
inline tl::expected<FdChannel, std::string> OpenPipes() {
  int data[2];
  int ack[2];
  if (::pipe2(data, O_CLOEXEC) != 0) return tl::unexpected(Errno("pipe2"));
  UniqueFd data_read(data[0]);
  UniqueFd data_write(data[1]);
  if (::pipe2(ack, O_CLOEXEC) != 0) return tl::unexpected(Errno("pipe2"));
  UniqueFd ack_read(ack[0]);
  UniqueFd ack_write(ack[1]);
  if (::fcntl(data_write.get(), F_SETPIPE_SZ, PipeMaxSize()) < 0) {
    return tl::unexpected(Errno("fcntl(F_SETPIPE_SZ)"));
  }
  return FdChannel{.parent = {std::move(data_write), std::move(ack_read)},
                   .peer = {std::move(data_read), std::move(ack_write)}};
}

}  // namespace zcpipe::bench
