// What a coordinator and a worker process say to each other. Private to zcpipe::workgroup;
// the layout is documented in docs/shm-layout.md ("Worker control segment").
//
// Each worker has a control segment holding two rings of WorkMessage (requests from the
// coordinator, responses from the worker) and a heartbeat word, and one end of a Unix stream
// socket pair: the private channel for the control segment's name at start-up, member set-up
// arguments and key material, and payload bytes in the copy transport. A closed socket also
// tells either side that the other is gone.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "zcpipe/shm/handle.h"
#include "zcpipe/shm/ring.h"

namespace zcpipe::workgroup::detail {

// The socket's descriptor number in a worker, and the marker argument that makes a process one.
inline constexpr int kWorkerSocketFd = 3;
inline constexpr std::string_view kWorkerFlag = "--zcpipe-worker";
// A worker's process name (comm: at most 15 characters).
inline constexpr std::string_view kWorkerName = "zcpipe-worker";

enum class MessageKind : std::uint32_t {
  // coordinator → worker
  kAttachArena = 1,    // text: a block pool's segment name
  kDetachArena = 2,    // args[0]: its segment id
  kRun = 3,            // text: task name; input, output; args
  kCreateMember = 4,   // text: member type; member: its id; then on the socket: args, secret
  kInvoke = 5,         // member; input, output; args
  kDestroyMember = 6,  // member
  kProbe = 7,
  kShutdown = 8,
  // worker → coordinator
  kDone = 101,      // id; status 0: output names the bytes written; else output names the message
  kProgress = 102,  // id; args[0]: the value (TaskContext::Progress)
  kProbeReply = 103,
};

enum class MessageStatus : std::uint32_t {
  kOk = 0,
  kTaskFailed = 1,    // the task returned an error
  kUnknownName = 2,   // no task / member type of that name registered in the worker
  kSetupFailed = 3,   // a member's constructor threw
  kNoSuchMember = 4,  // a call to a member this worker does not have
  kBadRequest = 5,    // a handle that does not resolve, a bad length
};

inline constexpr std::size_t kMessageTextSize = 72;  // task and member names, segment names

// One ring slot's value. Trivially copyable, fixed size: rings copy it as bytes.
struct WorkMessage {
  std::uint64_t id = 0;  // correlates a response with its request
  MessageKind kind = MessageKind::kRun;
  MessageStatus status = MessageStatus::kOk;
  std::uint64_t member = 0;
  shm::Handle input;
  shm::Handle output;
  std::uint32_t copy_bytes = 0;  // payload (or error text) bytes that follow on the socket
  std::uint32_t flags = 0;       // kCopyPayload, kPopulateOutput
  std::uint64_t args[6] = {};
  char text[kMessageTextSize] = {};

  static constexpr std::uint32_t kCopyPayload = 1;
  static constexpr std::uint32_t kPopulateOutput = 2;  // Request::populate_output

  void set_text(std::string_view value) {
    const auto n = value.size() < kMessageTextSize ? value.size() : kMessageTextSize - 1;
    std::memcpy(text, value.data(), n);
    text[n] = '\0';
  }
  [[nodiscard]] std::string_view text_view() const { return {text, ::strnlen(text, sizeof text)}; }
};
static_assert(sizeof(WorkMessage) == 192 && offsetof(WorkMessage, args) == 72 &&
                  offsetof(WorkMessage, text) == 120,
              "docs/shm-layout.md: WorkMessage");

inline constexpr std::uint32_t kRingCapacity = 256;

// The control segment's payload: requests ring, responses ring, heartbeat.
struct ControlLayout {
  static constexpr std::size_t kRingBytes = shm::Ring<WorkMessage>::BytesFor(kRingCapacity);
  static constexpr std::size_t kRequestsOffset = 0;
  static constexpr std::size_t kResponsesOffset = kRingBytes;
  static constexpr std::size_t kHeartbeatOffset = 2 * kRingBytes;
  static constexpr std::size_t kSize = kHeartbeatOffset + 64;
};
static_assert(ControlLayout::kRingBytes % 64 == 0, "rings stay cache-line aligned");

// CLOCK_MONOTONIC in ns: comparable across processes on one machine.
std::uint64_t MonotonicNanos();

// How long before `now` `since` was, both MonotonicNanos(); 0 if `since` is the later one, as
// a timestamp that another thread (or process) took after `now` was read can be.
constexpr std::uint64_t NanosSince(std::uint64_t since, std::uint64_t now) {
  return now > since ? now - since : 0;
}

inline std::atomic<std::uint64_t>& Heartbeat(std::span<std::byte> control) {
  return *reinterpret_cast<std::atomic<std::uint64_t>*>(control.data() +
                                                        ControlLayout::kHeartbeatOffset);
}

// Blocking, whole-buffer socket I/O; false when the peer is gone or the socket failed.
[[nodiscard]] bool WriteAll(int fd, std::span<const std::byte> bytes);
[[nodiscard]] bool ReadAll(int fd, std::span<std::byte> bytes);

// The most bytes of error text a worker may send with a failed answer; more is a protocol
// violation (the coordinator reads none of it and treats the worker as crashed).
inline constexpr std::uint32_t kMaxErrorText = 64 * 1024;
enum class ReadOutcome { kDone, kClosed, kTimedOut };
// Reads all of `bytes` from a peer that is not trusted to send them: waits at most until
// `deadline_ns` (MonotonicNanos) in all. kClosed: the peer is gone or the socket failed.
[[nodiscard]] ReadOutcome ReadAllBy(int fd, std::span<std::byte> bytes, std::uint64_t deadline_ns);
// A length-prefixed (u32) byte string.
[[nodiscard]] bool WriteBlob(int fd, std::span<const std::byte> bytes);
[[nodiscard]] bool ReadBlob(int fd, std::string& out);

}  // namespace zcpipe::workgroup::detail
