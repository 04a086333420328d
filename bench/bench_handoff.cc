// bench_handoff: the round trip of a payload from one process to another and a small ack back,
// over zero-copy handle passing (zcpipe::shm rings + block pool), a bare shared-memory mailbox
// (the physical floor), and the copying transports a pipeline would otherwise use (Boost
// message queue, Unix socket, pipe). What each benchmark measures: bench/README.md.
//
// Every benchmark is named handoff/<transport>/<payload bytes>; scripts/handoff-table turns
// the JSON output into a table of medians.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>

#include "fd_io.h"
#include "forked_peer.h"
#include "page_touch.h"
#include "zcpipe/shm/block_pool.h"
#include "zcpipe/shm/handle.h"
#include "zcpipe/shm/ring.h"
#include "zcpipe/shm/segment.h"

namespace {

namespace shm = zcpipe::shm;
namespace bip = boost::interprocess;
using zcpipe::bench::ForkedPeer;
using zcpipe::bench::kIoEof;
using zcpipe::bench::kPeerOk;
using zcpipe::bench::PeerFail;
using zcpipe::bench::ReadAll;
using zcpipe::bench::TouchPages;
using zcpipe::bench::UniqueFd;
using zcpipe::bench::WriteAll;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Every blocking step gives up after this long: a wedged peer fails the benchmark, never hangs it.
constexpr std::chrono::nanoseconds kTimeout = 10s;
// Untimed round trips after the fork: the peer maps and faults in its pages, both sides warm up.
constexpr int kWarmupRoundTrips = 3;
constexpr std::uint32_t kRingCapacity = 16;
constexpr std::size_t kPageSize = 4096;
constexpr std::byte kFillByte{0x5a};
// SO_SNDBUF / SO_RCVBUF for the Unix socket (forced past net.core.*mem_max when allowed).
constexpr int kSocketBufferBytes = 4 << 20;

enum class Wait { kSpin, kSleep };
enum class Touch { kPages, kNone };

// ----------------------------------------------------------------------------------------------
// Shared plumbing

void SkipWith(benchmark::State& state, const std::string& why) { state.SkipWithError(why.c_str()); }

std::string Describe(const char* what, const shm::Error& error) {
  return std::string(what) + ": " + shm::Describe(error);
}

std::string ErrnoText(int sys_errno) {
  char buffer[128];
  return ::strerror_r(sys_errno, buffer, sizeof buffer);  // the GNU one: returns the text
}

std::string Errno(const char* what, int sys_errno = errno) {
  return std::string(what) + ": " + ErrnoText(sys_errno);
}

// How the two processes spent the benchmark, reported per round trip: "blocked" (voluntary
// context switches: how often a side really slept) and "preempted" (involuntary ones); and
// "peer_cpu", the receiver's CPU time over its life. On a busy machine the scheduler, not the
// transport, decides a spinning round trip (a spinner that loses its core costs a time slice):
// a spinning benchmark whose CPU time (parent) or peer_cpu is well below its real time was off
// its cores, and scripts/handoff-table marks it.
struct RunUsage {
  zcpipe::bench::ContextSwitches parent;  // during the timed loop
  zcpipe::bench::ContextSwitches peer;    // over the peer's life: the loop and a few more
  double peer_cpu_share = 0;
};

zcpipe::bench::ContextSwitches OwnContextSwitches() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return zcpipe::bench::SwitchesIn(usage);
}

// Counters for readers: bytes_per_second from the payload, round trips per second, and the
// context switches per round trip.
void Report(benchmark::State& state, std::size_t bytes, const RunUsage& usage) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["round_trips"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["blocked"] =
      benchmark::Counter(static_cast<double>(usage.parent.voluntary + usage.peer.voluntary),
                         benchmark::Counter::kAvgIterations);
  state.counters["preempted"] =
      benchmark::Counter(static_cast<double>(usage.parent.involuntary + usage.peer.involuntary),
                         benchmark::Counter::kAvgIterations);
  state.counters["peer_cpu"] = usage.peer_cpu_share;
}

// Fails the benchmark with `error`, adding what became of the peer (it often failed first).
void FailRoundTrip(benchmark::State& state, ForkedPeer& peer, const std::string& error) {
  std::string problem = peer.Join(std::chrono::milliseconds(200));  // kills it if still there
  SkipWith(state, problem.empty() ? error : error + " (" + problem + ")");
}

// Runs kWarmupRoundTrips untimed round trips, then the timed loop. `round_trip(error)` does one
// round trip and returns true, or describes what failed in `error` and returns false.
// Returns false (the benchmark marked failed, the peer gone) if any round trip failed.
template <class RoundTrip>
bool RunRoundTrips(benchmark::State& state, ForkedPeer& peer, RunUsage& usage,
                   RoundTrip&& round_trip) {
  std::string error;
  for (int i = 0; i < kWarmupRoundTrips; ++i) {
    if (!round_trip(error)) {
      FailRoundTrip(state, peer, "warm-up: " + error);
      return false;
    }
  }
  const auto before = OwnContextSwitches();
  for (auto _ : state) {
    if (!round_trip(error)) {
      FailRoundTrip(state, peer, error);
      return false;
    }
  }
  const auto after = OwnContextSwitches();
  usage.parent = {after.voluntary - before.voluntary, after.involuntary - before.involuntary};
  return true;
}

// After a clean timed loop and the stop message: reaps the peer, failing the benchmark if the
// peer did not exit cleanly.
void JoinPeer(benchmark::State& state, ForkedPeer& peer, RunUsage& usage) {
  if (std::string problem = peer.Join(); !problem.empty()) SkipWith(state, problem);
  usage.peer = peer.context_switches();
  usage.peer_cpu_share = peer.cpu_share();
}

std::size_t RoundUpToPage(std::size_t bytes) {
  return (bytes + kPageSize - 1) / kPageSize * kPageSize;
}

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<std::byte[], FreeDeleter>;

// A page-aligned private buffer (the copying transports' best case), filled with `fill`, which
// also faults its pages in before anything is timed.
Buffer MakeBuffer(std::size_t bytes, std::byte fill) {
  Buffer buffer(static_cast<std::byte*>(std::aligned_alloc(kPageSize, RoundUpToPage(bytes))));
  if (!buffer) throw std::bad_alloc();
  std::memset(buffer.get(), std::to_integer<int>(fill), bytes);
  return buffer;
}

// ----------------------------------------------------------------------------------------------
// The payload of the shared-memory transports: the first `bytes` of a pool's only block.

struct PayloadBlock {
  shm::BlockPool pool;
  shm::Handle handle;  // the payload, a sub-range of the block
};

shm::Result<PayloadBlock> MakePayloadBlock(std::uint32_t bytes) {
  const auto block_size = static_cast<std::uint32_t>(RoundUpToPage(bytes));
  auto pool = shm::BlockPool::Create({.block_size = block_size, .block_count = 1});
  if (!pool) return tl::unexpected(pool.error());
  auto block = pool->Allocate();
  if (!block) return tl::unexpected(block.error());
  const shm::Handle handle = block->Sub(0, bytes);
  auto payload = pool->Resolve(handle);
  if (!payload) return tl::unexpected(payload.error());
  std::memset(payload->data(), std::to_integer<int>(kFillByte), payload->size());
  return PayloadBlock{std::move(*pool), handle};
}

// ----------------------------------------------------------------------------------------------
// ZeroCopyRing: a Handle goes over one Ring<Handle>, the same handle comes back over another.

using HandleRing = shm::Ring<shm::Handle>;
constexpr std::size_t kRingBytes = HandleRing::BytesFor(kRingCapacity);
static_assert(kRingBytes % shm::detail::kCacheLine == 0, "the second ring must stay 64-aligned");

struct RingMemory {
  std::span<std::byte> to_peer;    // parent produces, peer consumes
  std::span<std::byte> to_parent;  // peer produces, parent consumes
};

RingMemory RingsIn(const shm::Segment& channel) {
  const auto payload = channel.payload();  // at offset 128 of a page-aligned mapping: 64-aligned
  return {payload.subspan(0, kRingBytes), payload.subspan(kRingBytes, kRingBytes)};
}

shm::WaitPolicy PolicyFor(Wait wait) {
  shm::WaitPolicy policy;
  policy.spin_for = wait == Wait::kSpin ? std::chrono::nanoseconds(std::chrono::hours(1)) : 0ns;
  return policy;
}

void BM_ZeroCopyRing(benchmark::State& state, Wait wait, Touch touch) {
  const auto bytes = static_cast<std::uint32_t>(state.range(0));
  auto payload = MakePayloadBlock(bytes);
  if (!payload) return SkipWith(state, Describe("payload pool", payload.error()));
  auto channel =
      shm::Segment::Create({.payload_size = 2 * kRingBytes, .kind = shm::SegmentKind::kChannel});
  if (!channel) return SkipWith(state, Describe("Segment::Create", channel.error()));
  const RingMemory rings = RingsIn(*channel);
  for (auto memory : {rings.to_peer, rings.to_parent}) {
    if (auto formatted = HandleRing::Format(memory, kRingCapacity); !formatted) {
      return SkipWith(state, Describe("Ring::Format", formatted.error()));
    }
  }
  const shm::WaitPolicy policy = PolicyFor(wait);
  auto to_peer = shm::RingProducer<shm::Handle>::Attach(rings.to_peer, policy);
  if (!to_peer) return SkipWith(state, Describe("RingProducer::Attach", to_peer.error()));
  auto from_peer = shm::RingConsumer<shm::Handle>::Attach(rings.to_parent, policy);
  if (!from_peer) return SkipWith(state, Describe("RingConsumer::Attach", from_peer.error()));

  const std::string pool_name = payload->pool.name();
  const std::string channel_name = channel->name();
  auto peer = ForkedPeer::Start([&]() -> int {
    auto view = shm::PoolView::Attach(pool_name);
    if (!view) return PeerFail("PoolView::Attach", shm::Describe(view.error()));
    auto segment = shm::Segment::Attach(channel_name);
    if (!segment) return PeerFail("Segment::Attach", shm::Describe(segment.error()));
    const RingMemory peer_rings = RingsIn(*segment);
    auto in = shm::RingConsumer<shm::Handle>::Attach(peer_rings.to_peer, policy);
    if (!in) return PeerFail("RingConsumer::Attach", shm::Describe(in.error()));
    auto out = shm::RingProducer<shm::Handle>::Attach(peer_rings.to_parent, policy);
    if (!out) return PeerFail("RingProducer::Attach", shm::Describe(out.error()));
    for (;;) {
      auto handle = in->Pop(kTimeout);
      if (!handle) return PeerFail("Pop", shm::Describe(handle.error()));
      if (!handle->valid()) return kPeerOk;  // the stop message
      auto received = view->Resolve(*handle);
      if (!received) return PeerFail("Resolve", shm::Describe(received.error()));
      if (touch == Touch::kPages) benchmark::DoNotOptimize(TouchPages(*received));
      if (auto pushed = out->Push(*handle, kTimeout); !pushed) {
        return PeerFail("Push", shm::Describe(pushed.error()));
      }
    }
  });
  if (!peer) return SkipWith(state, Errno("fork"));

  const shm::Handle sent = payload->handle;
  RunUsage usage;
  const bool ok = RunRoundTrips(state, *peer, usage, [&](std::string& error) {
    if (auto pushed = to_peer->Push(sent, kTimeout); !pushed) {
      error = Describe("Push", pushed.error());
      return false;
    }
    auto ack = from_peer->Pop(kTimeout);
    if (!ack) {
      error = Describe("Pop", ack.error());
      return false;
    }
    if (*ack != sent) {
      error = "the ack is not the handle sent";
      return false;
    }
    return true;
  });
  if (ok) {
    if (auto pushed = to_peer->Push(shm::Handle{}, kTimeout); !pushed) {
      SkipWith(state, Describe("Push (stop)", pushed.error()));
    } else {
      JoinPeer(state, *peer, usage);
    }
  }
  Report(state, bytes, usage);
}

// ----------------------------------------------------------------------------------------------
// Mailbox: the physical reference. One sequence word per direction, each on its own cache line;
// the payload is in a pool block exactly as for the ring, so the receiver's work is identical.

struct alignas(shm::detail::kCacheLine) MailboxWord {
  std::atomic<std::uint32_t> seq{0};
};
struct Mailbox {
  MailboxWord to_peer;
  MailboxWord to_parent;
};
static_assert(sizeof(Mailbox) == 2 * shm::detail::kCacheLine);
constexpr std::uint32_t kMailboxStop = UINT32_MAX;

void Post(std::atomic<std::uint32_t>& word, std::uint32_t value, Wait wait) {
  word.store(value, std::memory_order_release);
  if (wait == Wait::kSleep) shm::detail::FutexWake(word);
}

// Waits until `word` no longer holds `previous` and returns what it holds; nullopt after kTimeout.
std::optional<std::uint32_t> AwaitChange(std::atomic<std::uint32_t>& word, std::uint32_t previous,
                                         Wait wait) {
  std::uint32_t value = word.load(std::memory_order_acquire);
  if (value != previous) return value;
  const auto deadline = Clock::now() + kTimeout;
  if (wait == Wait::kSpin) {
    for (std::uint32_t i = 1;; ++i) {
      shm::detail::CpuRelax();
      value = word.load(std::memory_order_acquire);
      if (value != previous) return value;
      if ((i & 1023) == 0 && Clock::now() >= deadline) return std::nullopt;
    }
  }
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    shm::detail::FutexWait(word, previous, deadline - now);
    value = word.load(std::memory_order_acquire);
    if (value != previous) return value;
  }
}

void BM_Mailbox(benchmark::State& state, Wait wait) {
  const auto bytes = static_cast<std::uint32_t>(state.range(0));
  auto payload = MakePayloadBlock(bytes);
  if (!payload) return SkipWith(state, Describe("payload pool", payload.error()));
  auto segment =
      shm::Segment::Create({.payload_size = sizeof(Mailbox), .kind = shm::SegmentKind::kRaw});
  if (!segment) return SkipWith(state, Describe("Segment::Create", segment.error()));
  auto* mailbox = new (segment->payload().data()) Mailbox{};

  const std::string pool_name = payload->pool.name();
  const std::string segment_name = segment->name();
  const shm::Handle handle = payload->handle;
  auto peer = ForkedPeer::Start([&]() -> int {
    auto view = shm::PoolView::Attach(pool_name);
    if (!view) return PeerFail("PoolView::Attach", shm::Describe(view.error()));
    auto received = view->Resolve(handle);
    if (!received) return PeerFail("Resolve", shm::Describe(received.error()));
    auto peer_segment = shm::Segment::Attach(segment_name);
    if (!peer_segment) return PeerFail("Segment::Attach", shm::Describe(peer_segment.error()));
    auto* box = reinterpret_cast<Mailbox*>(peer_segment->payload().data());
    for (std::uint32_t seq = 0;;) {
      const auto got = AwaitChange(box->to_peer.seq, seq, wait);
      if (!got) return PeerFail("timed out waiting for the parent");
      if (*got == kMailboxStop) return kPeerOk;
      if (*got != seq + 1) return PeerFail("the parent wrote out of sequence");
      seq = *got;
      benchmark::DoNotOptimize(TouchPages(*received));
      Post(box->to_parent.seq, seq, wait);
    }
  });
  if (!peer) return SkipWith(state, Errno("fork"));

  std::uint32_t seq = 0;
  RunUsage usage;
  const bool ok = RunRoundTrips(state, *peer, usage, [&](std::string& error) {
    const std::uint32_t next = seq + 1;
    Post(mailbox->to_peer.seq, next, wait);
    const auto reply = AwaitChange(mailbox->to_parent.seq, seq, wait);
    if (!reply) {
      error = "timed out waiting for the peer";
      return false;
    }
    if (*reply != next) {
      error = "the peer answered out of sequence";
      return false;
    }
    seq = next;
    return true;
  });
  if (ok) {
    Post(mailbox->to_peer.seq, kMailboxStop, wait);
    JoinPeer(state, *peer, usage);
  }
  Report(state, bytes, usage);
}

// ----------------------------------------------------------------------------------------------
// MessageQueue: boost::interprocess::message_queue, one queue per direction.

// A queue name, removed before use and again when the creating process is done with it.
class QueueName {
 public:
  explicit QueueName(std::string name) : name_(std::move(name)), creator_(::getpid()) {
    bip::message_queue::remove(name_.c_str());
  }
  QueueName(const QueueName&) = delete;
  QueueName& operator=(const QueueName&) = delete;
  ~QueueName() {
    if (::getpid() == creator_) bip::message_queue::remove(name_.c_str());
  }
  [[nodiscard]] const char* c_str() const { return name_.c_str(); }

 private:
  std::string name_;
  pid_t creator_;
};

constexpr std::string_view kQueuePrefix = "zcpipe-bench-";  // then "<creator pid>-mq-..."

// Removes the queues of bench_handoff runs that were killed mid-benchmark (their creator is gone).
void RemoveStaleQueues() {
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/dev/shm", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kQueuePrefix)) continue;
    const int pid = std::atoi(name.c_str() + kQueuePrefix.size());
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) bip::message_queue::remove(name.c_str());
  }
}

boost::posix_time::ptime QueueDeadline() {
  return boost::posix_time::microsec_clock::universal_time() +
         boost::posix_time::microseconds(
             std::chrono::duration_cast<std::chrono::microseconds>(kTimeout).count());
}

void BM_MessageQueue(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::string prefix = std::string(kQueuePrefix) + std::to_string(::getpid());
  const QueueName data_name(prefix + "-mq-data");  // outlive the queues: removed after unmapping
  const QueueName ack_name(prefix + "-mq-ack");
  std::optional<bip::message_queue> to_peer;
  std::optional<bip::message_queue> from_peer;
  try {
    to_peer.emplace(bip::create_only, data_name.c_str(), 1, bytes);
    from_peer.emplace(bip::create_only, ack_name.c_str(), 1, 1);
  } catch (const bip::interprocess_exception& e) {
    return SkipWith(state, std::string("message_queue: ") + e.what());
  }
  const auto payload = MakeBuffer(bytes, kFillByte);

  auto peer = ForkedPeer::Start([&]() -> int {
    try {
      bip::message_queue in(bip::open_only, data_name.c_str());
      bip::message_queue out(bip::open_only, ack_name.c_str());
      const auto buffer = MakeBuffer(bytes, std::byte{0});
      for (;;) {
        bip::message_queue::size_type received = 0;
        unsigned int priority = 0;
        if (!in.timed_receive(buffer.get(), bytes, received, priority, QueueDeadline())) {
          return PeerFail("timed out waiting for a message");
        }
        if (received == 0) return kPeerOk;  // the stop message
        if (received != bytes) return PeerFail("short message");
        benchmark::DoNotOptimize(TouchPages({buffer.get(), bytes}));
        const std::byte ack{1};
        if (!out.timed_send(&ack, 1, 0, QueueDeadline()))
          return PeerFail("timed out sending the ack");
      }
    } catch (const bip::interprocess_exception& e) {
      return PeerFail("message_queue", e.what());
    }
  });
  if (!peer) return SkipWith(state, Errno("fork"));

  RunUsage usage;
  bool ok = false;
  try {
    ok = RunRoundTrips(state, *peer, usage, [&](std::string& error) {
      const auto deadline = QueueDeadline();
      if (!to_peer->timed_send(payload.get(), bytes, 0, deadline)) {
        error = "timed out sending the payload";
        return false;
      }
      std::byte ack{};
      bip::message_queue::size_type received = 0;
      unsigned int priority = 0;
      if (!from_peer->timed_receive(&ack, 1, received, priority, deadline) || received != 1) {
        error = "no ack from the peer";
        return false;
      }
      return true;
    });
    if (ok && !to_peer->timed_send(payload.get(), 0, 0, QueueDeadline())) {
      ok = false;
      SkipWith(state, "timed out sending the stop message");
    }
  } catch (const bip::interprocess_exception& e) {
    ok = false;
    SkipWith(state, std::string("message_queue: ") + e.what());
  }
  if (ok) JoinPeer(state, *peer, usage);
  Report(state, bytes, usage);
}

// ----------------------------------------------------------------------------------------------
// UnixSocket and Pipe: the payload is written whole and read whole, a 1-byte ack comes back.
// The sender closing its data end is the stop message (the peer reads end-of-stream).

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

void RunFdRoundTrips(benchmark::State& state, std::size_t bytes, FdChannel channel) {
  const auto payload = MakeBuffer(bytes, kFillByte);
  auto peer = ForkedPeer::Start([&]() -> int {
    channel.parent = FdEnds{};  // else the peer would hold the parent's write end open itself
    const auto buffer = MakeBuffer(bytes, std::byte{0});
    for (;;) {
      const int read = ReadAll(channel.peer.data.get(), buffer.get(), bytes);
      if (read == kIoEof) return kPeerOk;
      if (read != 0) return PeerFail("read", ErrnoText(read));
      benchmark::DoNotOptimize(TouchPages({buffer.get(), bytes}));
      const std::byte ack{1};
      if (const int written = WriteAll(channel.peer.ack_fd(), &ack, 1); written != 0) {
        return PeerFail("write ack", ErrnoText(written));
      }
    }
  });
  if (!peer) return SkipWith(state, Errno("fork"));
  channel.peer = FdEnds{};

  RunUsage usage;
  const bool ok = RunRoundTrips(state, *peer, usage, [&](std::string& error) {
    if (const int written = WriteAll(channel.parent.data.get(), payload.get(), bytes);
        written != 0) {
      error = Errno("write", written);
      return false;
    }
    std::byte ack{};
    if (const int read = ReadAll(channel.parent.ack_fd(), &ack, 1); read != 0) {
      error = read == kIoEof ? std::string("the peer closed its end") : Errno("read ack", read);
      return false;
    }
    return true;
  });
  if (ok) {
    channel.parent = FdEnds{};  // stop
    JoinPeer(state, *peer, usage);
  }
  Report(state, bytes, usage);
}

// Sets a socket buffer size, past the sysctl limit if this process may (SO_*BUFFORCE).
bool SetSocketBuffer(int fd, int force_option, int option, int value) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &value, sizeof value) == 0) return true;
  return ::setsockopt(fd, SOL_SOCKET, option, &value, sizeof value) == 0;
}

void BM_UnixSocket(benchmark::State& state) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return SkipWith(state, Errno("socketpair"));
  }
  FdChannel channel{.parent = {UniqueFd(fds[0]), {}}, .peer = {UniqueFd(fds[1]), {}}};
  for (int fd : {fds[0], fds[1]}) {
    if (!SetSocketBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, kSocketBufferBytes) ||
        !SetSocketBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, kSocketBufferBytes)) {
      return SkipWith(state, Errno("setsockopt"));
    }
  }
  RunFdRoundTrips(state, static_cast<std::size_t>(state.range(0)), std::move(channel));
}

// The largest pipe capacity an unprivileged process may ask for.
int PipeMaxSize() {
  int size = 1 << 20;
  if (std::FILE* file = std::fopen("/proc/sys/fs/pipe-max-size", "r")) {
    if (std::fscanf(file, "%d", &size) != 1) size = 1 << 20;
    static_cast<void>(std::fclose(file));  // read-only: nothing to lose
  }
  return size;
}

void BM_Pipe(benchmark::State& state) {
  int data[2];
  int ack[2];
  if (::pipe2(data, O_CLOEXEC) != 0) return SkipWith(state, Errno("pipe2"));
  UniqueFd data_read(data[0]);
  UniqueFd data_write(data[1]);
  if (::pipe2(ack, O_CLOEXEC) != 0) return SkipWith(state, Errno("pipe2"));
  UniqueFd ack_read(ack[0]);
  UniqueFd ack_write(ack[1]);
  if (::fcntl(data_write.get(), F_SETPIPE_SZ, PipeMaxSize()) < 0) {
    return SkipWith(state, Errno("fcntl(F_SETPIPE_SZ)"));
  }
  FdChannel channel{.parent = {std::move(data_write), std::move(ack_read)},
                    .peer = {std::move(data_read), std::move(ack_write)}};
  RunFdRoundTrips(state, static_cast<std::size_t>(state.range(0)), std::move(channel));
}

// ----------------------------------------------------------------------------------------------
// Registration

constexpr std::int64_t kPayloadSizes[] = {64, 4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20};

// Big copies take tens of milliseconds per round trip: a short minimum time still gives each
// repetition several of them, and keeps the whole suite to a couple of minutes.
double MinTimeFor(std::int64_t bytes) { return bytes >= (16 << 20) ? 0.2 : 0.1; }

template <class Fn>
void Register(const char* name, Fn fn) {
  for (const std::int64_t bytes : kPayloadSizes) {
    benchmark::RegisterBenchmark(name, fn)
        ->Arg(bytes)
        ->MinTime(MinTimeFor(bytes))
        ->Repetitions(5)
        ->DisplayAggregatesOnly(true)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

void RegisterAll() {
  Register("handoff/zero_copy_spin",
           [](benchmark::State& s) { BM_ZeroCopyRing(s, Wait::kSpin, Touch::kPages); });
  Register("handoff/zero_copy_sleep",
           [](benchmark::State& s) { BM_ZeroCopyRing(s, Wait::kSleep, Touch::kPages); });
  Register("handoff/zero_copy_no_touch",
           [](benchmark::State& s) { BM_ZeroCopyRing(s, Wait::kSpin, Touch::kNone); });
  Register("handoff/mailbox_spin", [](benchmark::State& s) { BM_Mailbox(s, Wait::kSpin); });
  Register("handoff/mailbox_futex", [](benchmark::State& s) { BM_Mailbox(s, Wait::kSleep); });
  Register("handoff/message_queue", [](benchmark::State& s) { BM_MessageQueue(s); });
  Register("handoff/unix_socket", [](benchmark::State& s) { BM_UnixSocket(s); });
  Register("handoff/pipe", [](benchmark::State& s) { BM_Pipe(s); });
}

}  // namespace

int main(int argc, char** argv) {
  if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {  // a dead peer is EPIPE, not our death
    std::perror("signal(SIGPIPE)");
    return 1;
  }
  RemoveStaleQueues();
  RegisterAll();
  // Repetitions run interleaved in random order by default: on a shared VM the cost of a
  // cross-core handoff drifts over minutes (the host moves the vCPUs), and interleaving spreads
  // that drift over all transports instead of favouring whichever ran in a quiet minute. A
  // later --benchmark_enable_random_interleaving=false on the command line still wins.
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  std::vector<char*> args(argv, argv + argc);
  args.insert(args.begin() + (argc > 0 ? 1 : 0), interleave);
  args.push_back(nullptr);
  int count = argc + 1;
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
