// A ZeroMQ PAIR connection over ipc:// between the benchmark and its forked peer: what a user of
// ZeroMQ would set up between two processes on one machine.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

#include <zmq.hpp>

#include "transport_support.h"

namespace zcpipe::bench {

// The ipc:// address of one connection: a socket file in a fresh private directory, removed
// (by the creating process) when this is destroyed.
class ZmqAddress {
 public:
  ZmqAddress() : creator_(::getpid()) {
    std::string dir = (std::filesystem::temp_directory_path() / "zcpipe-bench-zmq-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + dir);
    }
    dir_ = dir;
  }
  ZmqAddress(const ZmqAddress&) = delete;
  ZmqAddress& operator=(const ZmqAddress&) = delete;
  ~ZmqAddress() {
    std::error_code ignored;
    if (::getpid() == creator_) std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] std::string address() const { return "ipc://" + (dir_ / "pair").string(); }

 private:
  std::filesystem::path dir_;
  pid_t creator_;
};

enum class ZmqRole { kBind, kConnect };

// A PAIR socket on `address` whose sends and receives give up after kTimeout (then return an
// empty result) and whose close never waits for unsent messages. Throws zmq::error_t.
// A context must not cross fork(): create it, and the socket, after ForkedPeer::Start.
inline zmq::socket_t OpenZmqPair(zmq::context_t& context, const std::string& address,
                                 ZmqRole role) {
  zmq::socket_t socket(context, zmq::socket_type::pair);
  const auto timeout_ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout).count());
  socket.set(zmq::sockopt::sndtimeo, timeout_ms);
  socket.set(zmq::sockopt::rcvtimeo, timeout_ms);
  socket.set(zmq::sockopt::linger, 0);
  if (role == ZmqRole::kBind) {
    socket.bind(address);
  } else {
    socket.connect(address);
  }
  return socket;
}

}  // namespace zcpipe::bench
