// bench_messages: a stream of many small (64-byte) messages from one process to another, one
// way, as fast as the sender can send and the receiver can take them: messages per second over
// the zcpipe ring, the bare shared-memory mailbox, and the copying transports of bench_handoff
// (Boost message queue, Unix socket, pipe, ZeroMQ PAIR over ipc://). What it shows: for tiny
// messages no transport copies much, so what decides is how often a side makes a system call
// or waits for the other (bench/README.md).
//
// Every benchmark is named messages/<transport>/<message bytes>; scripts/bench-report turns
// the JSON output into a table.

#include <sys/resource.h>
#include <unistd.h>
#include <array>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <zmq.hpp>

#include "fd_channel.h"
#include "fd_io.h"
#include "forked_peer.h"
#include "mailbox.h"
#include "message_queue_name.h"
#include "transport_support.h"
#include "zcpipe/shm/ring.h"
#include "zcpipe/shm/segment.h"
#include "zmq_pair.h"

namespace zcpipe::bench {
namespace {

namespace bip = boost::interprocess;

constexpr std::size_t kMessageBytes = 64;
constexpr std::uint64_t kMessages = std::uint64_t{1} << 20;  // per timed stream
constexpr std::uint64_t kWarmupMessages = 1000;              // untimed: connect, fault in
// Messages in flight at most, for the transports that have a message count (ring, queue).
constexpr std::uint32_t kQueueCapacity = 1024;

// A message: its number in the stream, then filler. Trivially copyable, 64 bytes.
struct Message {
  std::uint64_t seq = 0;
  std::array<std::byte, kMessageBytes - sizeof(std::uint64_t)> filler{};
};
static_assert(sizeof(Message) == kMessageBytes);

// Puts `why` into `error` and returns false: the failing return of the transports' steps.
bool Fail(std::string& error, std::string why) {
  error = std::move(why);
  return false;
}

// The receiver's side of every stream: `count` messages, each checked to be the next one (so it
// really read it), then an ack. The warm-up stream, then the timed one.
template <class Receiver>
int ReceiveStreams(Receiver& in) {
  std::string error;
  for (const std::uint64_t count : {kWarmupMessages, kMessages}) {
    for (std::uint64_t i = 0; i < count; ++i) {
      Message message;
      if (!in.Receive(message, error)) return PeerFail("receive", error);
      if (message.seq != i) return PeerFail("a message out of order");
    }
    if (!in.Ack(error)) return PeerFail("ack", error);
  }
  return kPeerOk;
}

template <class Sender>
bool SendStream(Sender& out, std::uint64_t count, std::string& error) {
  Message message;
  message.filler.fill(kFillByte);
  for (std::uint64_t i = 0; i < count; ++i) {
    message.seq = i;
    if (!out.Send(message, error)) return false;
  }
  return out.AwaitAck(error);
}

// The sender's side: the warm-up stream, then the timed one (Iterations(1): one per repetition).
// Counters: items_per_second (messages), and per message the context switches of both sides
// ("blocked": voluntary, a side slept), and the receiver's CPU time over its life ("peer_cpu").
template <class Sender>
void SendStreams(benchmark::State& state, ForkedPeer& peer, Sender& out) {
  std::string error;
  if (!SendStream(out, kWarmupMessages, error)) {
    const std::string problem = peer.Join(std::chrono::milliseconds(200));
    return SkipWith(state, "warm-up: " + error + (problem.empty() ? "" : " (" + problem + ")"));
  }
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  for (auto _ : state) {
    if (!SendStream(out, kMessages, error)) {
      const std::string problem = peer.Join(std::chrono::milliseconds(200));
      return SkipWith(state, error + (problem.empty() ? "" : " (" + problem + ")"));
    }
  }
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  if (std::string problem = peer.Join(); !problem.empty()) return SkipWith(state, problem);
  const auto messages = static_cast<double>(state.iterations() * kMessages);
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
  state.SetBytesProcessed(static_cast<std::int64_t>(messages * kMessageBytes));
  state.counters["blocked"] =
      static_cast<double>(after.ru_nvcsw - before.ru_nvcsw + peer.context_switches().voluntary) /
      messages;
  state.counters["peer_cpu"] = peer.cpu_share();
}

// ----------------------------------------------------------------------------------------------
// Ring: the messages go by value through a zcpipe Ring<Message>; the ack over a Ring<uint64_t>.

using MessageRing = shm::Ring<Message>;
using AckRing = shm::Ring<std::uint64_t>;
constexpr std::size_t kMessageRingBytes = MessageRing::BytesFor(kQueueCapacity);
constexpr std::size_t kAckRingBytes = AckRing::BytesFor(2);
static_assert(kMessageRingBytes % shm::detail::kCacheLine == 0);

struct RingSpans {
  std::span<std::byte> messages;
  std::span<std::byte> acks;
};
RingSpans RingsIn(const shm::Segment& segment) {
  const auto payload = segment.payload();
  return {payload.subspan(0, kMessageRingBytes), payload.subspan(kMessageRingBytes, kAckRingBytes)};
}

struct RingSender {
  shm::RingProducer<Message> out;
  shm::RingConsumer<std::uint64_t> acks;
  bool Send(const Message& message, std::string& error) {
    if (auto pushed = out.Push(message, kTimeout); !pushed) {
      return Fail(error, Describe("Push", pushed.error()));
    }
    return true;
  }
  bool AwaitAck(std::string& error) {
    if (auto ack = acks.Pop(kTimeout); !ack) {
      return Fail(error, Describe("Pop ack", ack.error()));
    }
    return true;
  }
};

struct RingReceiver {
  shm::RingConsumer<Message> in;
  shm::RingProducer<std::uint64_t> acks;
  bool Receive(Message& message, std::string& error) {
    auto popped = in.Pop(kTimeout);
    if (!popped) {
      return Fail(error, Describe("Pop", popped.error()));
    }
    message = *popped;
    return true;
  }
  bool Ack(std::string& error) {
    if (auto pushed = acks.Push(1, kTimeout); !pushed) {
      return Fail(error, Describe("Push ack", pushed.error()));
    }
    return true;
  }
};

void BM_Ring(benchmark::State& state, Wait wait) {
  auto segment = shm::Segment::Create(
      {.payload_size = kMessageRingBytes + kAckRingBytes, .kind = shm::SegmentKind::kChannel});
  if (!segment) return SkipWith(state, Describe("Segment::Create", segment.error()));
  const RingSpans rings = RingsIn(*segment);
  if (auto formatted = MessageRing::Format(rings.messages, kQueueCapacity); !formatted) {
    return SkipWith(state, Describe("Ring::Format", formatted.error()));
  }
  if (auto formatted = AckRing::Format(rings.acks, 2); !formatted) {
    return SkipWith(state, Describe("Ring::Format", formatted.error()));
  }
  shm::WaitPolicy policy;
  policy.spin_for = wait == Wait::kSpin ? std::chrono::nanoseconds(std::chrono::hours(1))
                                        : std::chrono::nanoseconds(0);
  const std::string name = segment->name();
  auto peer = ForkedPeer::Start([&]() -> int {
    auto attached = shm::Segment::Attach(name);
    if (!attached) return PeerFail("Segment::Attach", shm::Describe(attached.error()));
    const RingSpans spans = RingsIn(*attached);
    auto in = shm::RingConsumer<Message>::Attach(spans.messages, policy);
    auto acks = shm::RingProducer<std::uint64_t>::Attach(spans.acks, policy);
    if (!in || !acks) return PeerFail("Ring Attach");
    RingReceiver receiver{std::move(*in), std::move(*acks)};
    return ReceiveStreams(receiver);
  });
  if (!peer) return SkipWith(state, Errno("fork"));
  auto out = shm::RingProducer<Message>::Attach(rings.messages, policy);
  auto acks = shm::RingConsumer<std::uint64_t>::Attach(rings.acks, policy);
  if (!out || !acks) return SkipWith(state, "Ring Attach");
  RingSender sender{std::move(*out), std::move(*acks)};
  SendStreams(state, *peer, sender);
}

// ----------------------------------------------------------------------------------------------
// Mailbox: one message slot beside bench_handoff's two sequence words, both sides spinning. The
// sender writes message n once the receiver has posted n - 1 (it took the previous one): a
// queue of depth one, the floor of a shared-memory handoff that waits for each message.

struct MessageMailbox {
  Mailbox words;
  alignas(shm::detail::kCacheLine) Message slot;
};

struct MailboxSender {
  MessageMailbox* box;
  std::uint32_t sent = 0;
  bool Send(const Message& message, std::string& error) {
    if (sent > 0 && !AwaitTaken(error)) return false;
    box->slot = message;
    Post(box->words.to_peer.seq, ++sent, Wait::kSpin);
    return true;
  }
  // The receiver's "taken" of the last message is the ack.
  bool AwaitAck(std::string& error) { return AwaitTaken(error); }
  bool AwaitTaken(std::string& error) {
    auto& taken = box->words.to_parent.seq;
    if (taken.load(std::memory_order_acquire) == sent) return true;
    const auto got = AwaitChange(taken, sent - 1, Wait::kSpin);
    if (got == sent) return true;
    return Fail(error,
                got ? "the peer answered out of sequence" : "timed out waiting for the peer");
  }
};

struct MailboxReceiver {
  MessageMailbox* box;
  std::uint32_t received = 0;
  bool Receive(Message& message, std::string& error) {
    const auto got = AwaitChange(box->words.to_peer.seq, received, Wait::kSpin);
    if (got != received + 1) {
      return Fail(error,
                  got ? "the parent wrote out of sequence" : "timed out waiting for the parent");
    }
    message = box->slot;
    Post(box->words.to_parent.seq, ++received, Wait::kSpin);
    return true;
  }
  bool Ack(std::string& /*error*/) { return true; }  // the last "taken" is the ack
};

void BM_Mailbox(benchmark::State& state) {
  auto segment = shm::Segment::Create(
      {.payload_size = sizeof(MessageMailbox), .kind = shm::SegmentKind::kRaw});
  if (!segment) return SkipWith(state, Describe("Segment::Create", segment.error()));
  auto* box = new (segment->payload().data()) MessageMailbox{};
  const std::string name = segment->name();
  auto peer = ForkedPeer::Start([&]() -> int {
    auto attached = shm::Segment::Attach(name);
    if (!attached) return PeerFail("Segment::Attach", shm::Describe(attached.error()));
    MailboxReceiver receiver{reinterpret_cast<MessageMailbox*>(attached->payload().data())};
    return ReceiveStreams(receiver);
  });
  if (!peer) return SkipWith(state, Errno("fork"));
  MailboxSender sender{box};
  SendStreams(state, *peer, sender);
}

// ----------------------------------------------------------------------------------------------
// MessageQueue: boost::interprocess::message_queue of kQueueCapacity 64-byte messages; the ack
// over a second queue.

struct QueueSender {
  bip::message_queue& out;
  bip::message_queue& acks;
  bool Send(const Message& message, std::string& error) {
    if (out.timed_send(&message, sizeof message, 0, QueueDeadline())) return true;
    return Fail(error, "timed out sending");
  }
  bool AwaitAck(std::string& error) {
    std::byte ack{};
    bip::message_queue::size_type received = 0;
    unsigned int priority = 0;
    if (acks.timed_receive(&ack, 1, received, priority, QueueDeadline())) return true;
    return Fail(error, "no ack");
  }
};

struct QueueReceiver {
  bip::message_queue& in;
  bip::message_queue& acks;
  bool Receive(Message& message, std::string& error) {
    bip::message_queue::size_type received = 0;
    unsigned int priority = 0;
    if (!in.timed_receive(&message, sizeof message, received, priority, QueueDeadline())) {
      return Fail(error, "timed out");
    }
    return received == sizeof message || Fail(error, "short message");
  }
  bool Ack(std::string& error) {
    const std::byte ack{1};
    if (acks.timed_send(&ack, 1, 0, QueueDeadline())) return true;
    return Fail(error, "timed out sending the ack");
  }
};

void BM_MessageQueue(benchmark::State& state) {
  const QueueName data_name("data");  // outlive the queues: removed after unmapping
  const QueueName ack_name("ack");
  try {
    bip::message_queue out(bip::create_only, data_name.c_str(), kQueueCapacity, kMessageBytes);
    bip::message_queue acks(bip::create_only, ack_name.c_str(), 1, 1);
    auto peer = ForkedPeer::Start([&]() -> int {
      try {
        bip::message_queue in(bip::open_only, data_name.c_str());
        bip::message_queue peer_acks(bip::open_only, ack_name.c_str());
        QueueReceiver receiver{in, peer_acks};
        return ReceiveStreams(receiver);
      } catch (const bip::interprocess_exception& e) {
        return PeerFail("message_queue", e.what());
      }
    });
    if (!peer) return SkipWith(state, Errno("fork"));
    QueueSender sender{out, acks};
    SendStreams(state, *peer, sender);
  } catch (const bip::interprocess_exception& e) {
    SkipWith(state, std::string("message_queue: ") + e.what());
  }
}

// ----------------------------------------------------------------------------------------------
// UnixSocket and Pipe: each message one write() of 64 bytes and one read() of 64 bytes.

struct FdSender {
  const FdEnds& ends;
  bool Send(const Message& message, std::string& error) {
    const int written =
        WriteAll(ends.data.get(), reinterpret_cast<const std::byte*>(&message), sizeof message);
    return written == 0 || Fail(error, Errno("write", written));
  }
  bool AwaitAck(std::string& error) {
    std::byte ack{};
    const int read = ReadAll(ends.ack_fd(), &ack, 1);
    return read == 0 ||
           Fail(error, read == kIoEof ? "the peer closed its end" : Errno("read", read));
  }
};

struct FdReceiver {
  const FdEnds& ends;
  bool Receive(Message& message, std::string& error) {
    const int read =
        ReadAll(ends.data.get(), reinterpret_cast<std::byte*>(&message), sizeof message);
    return read == 0 ||
           Fail(error, read == kIoEof ? "the parent closed its end" : Errno("read", read));
  }
  bool Ack(std::string& error) {
    const std::byte ack{1};
    const int written = WriteAll(ends.ack_fd(), &ack, 1);
    return written == 0 || Fail(error, Errno("write ack", written));
  }
};

void BM_Fd(benchmark::State& state, tl::expected<FdChannel, std::string> channel) {
  if (!channel) return SkipWith(state, channel.error());
  auto peer = ForkedPeer::Start([&]() -> int {
    channel->parent = FdEnds{};  // a parent that dies is end-of-stream, not a hang
    FdReceiver receiver{channel->peer};
    return ReceiveStreams(receiver);
  });
  if (!peer) return SkipWith(state, Errno("fork"));
  channel->peer = FdEnds{};
  FdSender sender{channel->parent};
  SendStreams(state, *peer, sender);
}

// ----------------------------------------------------------------------------------------------
// Zmq: a ZeroMQ PAIR socket over ipc://, one 64-byte message per send, received into the
// receiver's Message (default high-water marks: 1000 messages queued on each side).

struct ZmqSender {
  zmq::socket_t& socket;
  bool Send(const Message& message, std::string& error) {
    return socket.send(zmq::const_buffer(&message, sizeof message)).has_value() ||
           Fail(error, "timed out sending");
  }
  bool AwaitAck(std::string& error) {
    std::byte ack{};
    return socket.recv(zmq::mutable_buffer(&ack, 1)).has_value() || Fail(error, "no ack");
  }
};

struct ZmqReceiver {
  zmq::socket_t& socket;
  bool Receive(Message& message, std::string& error) {
    const auto received = socket.recv(zmq::mutable_buffer(&message, sizeof message));
    if (!received) {
      return Fail(error, "timed out");
    }
    return received->untruncated_size == sizeof message || Fail(error, "wrong size");
  }
  bool Ack(std::string& error) {
    const std::byte ack{1};
    return socket.send(zmq::const_buffer(&ack, 1)).has_value() || Fail(error, "timed out");
  }
};

void BM_Zmq(benchmark::State& state) {
  try {
    const ZmqAddress endpoint;
    const std::string address = endpoint.address();
    auto peer = ForkedPeer::Start([&]() -> int {
      try {
        zmq::context_t context;
        zmq::socket_t socket = OpenZmqPair(context, address, ZmqRole::kConnect);
        ZmqReceiver receiver{socket};
        return ReceiveStreams(receiver);
      } catch (const zmq::error_t& e) {
        return PeerFail("zmq", e.what());
      }
    });
    if (!peer) return SkipWith(state, Errno("fork"));
    zmq::context_t context;  // after the fork: a context must not cross it
    zmq::socket_t socket = OpenZmqPair(context, address, ZmqRole::kBind);
    ZmqSender sender{socket};
    SendStreams(state, *peer, sender);
  } catch (const std::exception& e) {  // zmq::error_t, or std::system_error from ZmqAddress
    SkipWith(state, std::string("zmq: ") + e.what());
  }
}

// ----------------------------------------------------------------------------------------------
// Registration

template <class Fn>
void Register(const char* name, Fn fn) {
  benchmark::RegisterBenchmark(name, fn)
      ->Arg(kMessageBytes)
      ->Iterations(1)
      ->Repetitions(3)
      ->ReportAggregatesOnly(true)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

void RegisterAll() {
  Register("messages/ring_spin", [](benchmark::State& s) { BM_Ring(s, Wait::kSpin); });
  Register("messages/ring_sleep", [](benchmark::State& s) { BM_Ring(s, Wait::kSleep); });
  Register("messages/mailbox_spin", [](benchmark::State& s) { BM_Mailbox(s); });
  Register("messages/message_queue", [](benchmark::State& s) { BM_MessageQueue(s); });
  Register("messages/unix_socket", [](benchmark::State& s) { BM_Fd(s, OpenUnixSocket()); });
  Register("messages/pipe", [](benchmark::State& s) { BM_Fd(s, OpenPipes()); });
  Register("messages/zmq", [](benchmark::State& s) { BM_Zmq(s); });
}

}  // namespace
}  // namespace zcpipe::bench

int main(int argc, char** argv) {
  if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {  // a dead peer is EPIPE, not our death
    std::perror("signal(SIGPIPE)");
    return 1;
  }
  zcpipe::bench::RemoveStaleQueues();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  zcpipe::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
