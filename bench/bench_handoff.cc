// bench_handoff: the round trip of a payload from one process to another and a small ack back,
// over zero-copy handle passing (zcpipe::shm rings + block pool), a bare shared-memory mailbox
// (the physical floor), and the copying transports a pipeline would otherwise use (Boost
// message queue, Unix socket, pipe, ZeroMQ PAIR over ipc://). What each benchmark measures:
// bench/README.md.
//
// Every benchmark is named handoff/<transport>/<payload bytes>; scripts/bench-report turns
// the JSON output into tables of medians and a chart.

#include <sys/resource.h>
#include <unistd.h>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <zmq.hpp>

#include "fd_channel.h"
#include "fd_io.h"
#include "forked_peer.h"
#include "interleaved.h"
#include "mailbox.h"
#include "message_queue_name.h"
#include "page_touch.h"
#include "transport_support.h"
#include "zcpipe/shm/block_pool.h"
#include "zcpipe/shm/handle.h"
#include "zcpipe/shm/ring.h"
#include "zcpipe/shm/segment.h"
#include "zmq_pair.h"

namespace {

namespace shm = zcpipe::shm;
namespace bip = boost::interprocess;
using zcpipe::bench::AwaitChange;
using zcpipe::bench::Describe;
using zcpipe::bench::Errno;
using zcpipe::bench::ErrnoText;
using zcpipe::bench::FdChannel;
using zcpipe::bench::FdEnds;
using zcpipe::bench::ForkedPeer;
using zcpipe::bench::kFillByte;
using zcpipe::bench::kIoEof;
using zcpipe::bench::kMailboxStop;
using zcpipe::bench::kPeerOk;
using zcpipe::bench::kTimeout;
using zcpipe::bench::Mailbox;
using zcpipe::bench::MakeBuffer;
using zcpipe::bench::OpenPipes;
using zcpipe::bench::OpenUnixSocket;
using zcpipe::bench::OpenZmqPair;
using zcpipe::bench::PeerFail;
using zcpipe::bench::Post;
using zcpipe::bench::QueueDeadline;
using zcpipe::bench::QueueName;
using zcpipe::bench::ReadAll;
using zcpipe::bench::RoundUpToPage;
using zcpipe::bench::SkipWith;
using zcpipe::bench::TouchPages;
using zcpipe::bench::Wait;
using zcpipe::bench::WriteAll;
using zcpipe::bench::ZmqAddress;
using zcpipe::bench::ZmqRole;
using namespace std::chrono_literals;

// Untimed round trips after the fork: the peer maps and faults in its pages, both sides warm up.
constexpr int kWarmupRoundTrips = 3;
constexpr std::uint32_t kRingCapacity = 16;

enum class Touch { kPages, kNone };

// ----------------------------------------------------------------------------------------------
// Shared plumbing

// How the two processes spent the benchmark, reported per round trip: "blocked" (voluntary
// context switches: how often a side really slept) and "preempted" (involuntary ones); and
// "peer_cpu", the receiver's CPU time over its life. On a busy machine the scheduler, not the
// transport, decides a spinning round trip (a spinner that loses its core costs a time slice):
// a spinning benchmark whose CPU time (parent) or peer_cpu is well below its real time was off
// its cores, and scripts/bench-report marks it.
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

void BM_MessageQueue(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const QueueName data_name("data");  // outlive the queues: removed after unmapping
  const QueueName ack_name("ack");
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

// Runs the fd round trips over `channel`, or fails the benchmark with why it could not be opened.
void BM_Fd(benchmark::State& state, tl::expected<FdChannel, std::string> channel) {
  if (!channel) return SkipWith(state, channel.error());
  RunFdRoundTrips(state, static_cast<std::size_t>(state.range(0)), std::move(*channel));
}

// ----------------------------------------------------------------------------------------------
// Zmq: a ZeroMQ PAIR socket over ipc://, used as its users would: the payload is sent from the
// sender's buffer (ZeroMQ copies it into a message), the receiver gets it as a zmq::message_t,
// touches its pages and sends a 1-byte ack. An empty message is the stop message.

void BM_Zmq(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const auto payload = MakeBuffer(bytes, kFillByte);
  std::optional<ZmqAddress> endpoint;
  try {
    endpoint.emplace();
  } catch (const std::system_error& e) {
    return SkipWith(state, e.what());
  }
  const std::string address = endpoint->address();
  auto peer = ForkedPeer::Start([&]() -> int {
    try {
      zmq::context_t context;
      zmq::socket_t socket = OpenZmqPair(context, address, ZmqRole::kConnect);
      for (;;) {
        zmq::message_t message;
        if (!socket.recv(message)) return PeerFail("timed out waiting for a message");
        if (message.size() == 0) return kPeerOk;  // the stop message
        if (message.size() != bytes) return PeerFail("short message");
        benchmark::DoNotOptimize(
            TouchPages({static_cast<const std::byte*>(message.data()), message.size()}));
        const std::byte ack{1};
        if (!socket.send(zmq::const_buffer(&ack, 1))) return PeerFail("timed out sending the ack");
      }
    } catch (const zmq::error_t& e) {
      return PeerFail("zmq", e.what());
    }
  });
  if (!peer) return SkipWith(state, Errno("fork"));

  RunUsage usage;
  try {
    zmq::context_t context;  // after the fork: a context must not cross it
    zmq::socket_t socket = OpenZmqPair(context, address, ZmqRole::kBind);
    const bool ok = RunRoundTrips(state, *peer, usage, [&](std::string& error) {
      if (!socket.send(zmq::const_buffer(payload.get(), bytes))) {
        error = "timed out sending the payload";
        return false;
      }
      std::byte ack{};
      const auto received = socket.recv(zmq::mutable_buffer(&ack, 1));
      if (!received || received->size != 1) {
        error = "no ack from the peer";
        return false;
      }
      return true;
    });
    if (ok) {
      if (!socket.send(zmq::const_buffer(payload.get(), 0))) {
        SkipWith(state, "timed out sending the stop message");
      } else {
        JoinPeer(state, *peer, usage);
      }
    }
  } catch (const zmq::error_t& e) {
    FailRoundTrip(state, *peer, std::string("zmq: ") + e.what());
  }
  Report(state, bytes, usage);
}

// ----------------------------------------------------------------------------------------------
// Registration

constexpr std::int64_t kPayloadSizes[] = {64, 4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20};

// Small round trips take microseconds: 50 ms give each repetition thousands. Big copies take
// tens of milliseconds (ZeroMQ at 64 MiB ~80): 100 ms still give each repetition a few. Short
// times keep the suite to about a minute and a half; on a busy machine the spinning variants
// take much longer than their minimum time (each round trip may wait for a time slice).
double MinTimeFor(std::int64_t bytes) { return bytes >= (16 << 20) ? 0.1 : 0.05; }

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
  Register("handoff/unix_socket", [](benchmark::State& s) { BM_Fd(s, OpenUnixSocket()); });
  Register("handoff/pipe", [](benchmark::State& s) { BM_Fd(s, OpenPipes()); });
  Register("handoff/zmq", [](benchmark::State& s) { BM_Zmq(s); });
}

}  // namespace

int main(int argc, char** argv) {
  if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {  // a dead peer is EPIPE, not our death
    std::perror("signal(SIGPIPE)");
    return 1;
  }
  zcpipe::bench::RemoveStaleQueues();
  RegisterAll();
  if (!zcpipe::bench::InitializeInterleaved(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
