#include "zcpipe/shm/ring.h"

#include <time.h>

#include <csignal>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.h"
#include "zcpipe/shm/handle.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::shm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::LinePipe;

// A channel segment holding two formatted rings of Handle: "down" (parent to child) and "up".
struct TwoRings {
  explicit TwoRings(std::uint32_t capacity)
      : bytes(Ring<Handle>::BytesFor(capacity)),
        segment(Segment::Create({.payload_size = 2 * bytes, .kind = SegmentKind::kChannel})) {
    if (!segment) throw std::runtime_error(Describe(segment.error()));
    if (!Ring<Handle>::Format(down(), capacity) || !Ring<Handle>::Format(up(), capacity)) {
      throw std::runtime_error("format failed");
    }
  }
  std::span<std::byte> down() const { return segment->payload().subspan(0, bytes); }
  std::span<std::byte> up() const { return segment->payload().subspan(bytes, bytes); }

  std::size_t bytes;
  Result<Segment> segment;
};

Handle Numbered(std::uint32_t n) { return Handle{7, n % 100, 1, n, n ^ 0x5a5a5a5au}; }
bool IsNumbered(const Handle& h, std::uint32_t n) { return h == Numbered(n); }

TEST(Ring, FormatChecksItsPreconditions) {
  alignas(64) static std::byte memory[Ring<Handle>::BytesFor(8) + 64];
  const std::span<std::byte> span(memory, Ring<Handle>::BytesFor(8));
  EXPECT_EQ(Ring<Handle>::Format(span, 6).error().code, Errc::kInvalidArgument);  // not 2^n
  EXPECT_EQ(Ring<Handle>::Format(span, 1).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(Ring<Handle>::Format(span, 16).error().code, Errc::kInvalidArgument);  // too small
  EXPECT_EQ(Ring<Handle>::Format(std::span(memory + 8, span.size()), 8).error().code,
            Errc::kInvalidArgument);  // misaligned
  EXPECT_TRUE(Ring<Handle>::Format(span, 8));
  EXPECT_EQ(RingProducer<std::uint64_t>::Attach(span).error().code, Errc::kBadLayout);
  EXPECT_EQ(Ring<Handle>::kSlotSize, 64u);
}

TEST(Ring, KeepsOrderAndReportsFullAndEmpty) {
  TwoRings rings(8);
  auto producer = RingProducer<Handle>::Attach(rings.down());
  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(producer && consumer);
  for (std::uint32_t round = 0; round < 3; ++round) {
    for (std::uint32_t i = 0; i < 8; ++i) ASSERT_TRUE(producer->TryPush(Numbered(round * 8 + i)));
    EXPECT_FALSE(producer->TryPush(Numbered(99)));
    EXPECT_EQ(producer->depth(), 8u);
    for (std::uint32_t i = 0; i < 8; ++i) {
      auto value = consumer->TryPop();
      ASSERT_TRUE(value);
      EXPECT_TRUE(IsNumbered(*value, round * 8 + i));
    }
    EXPECT_FALSE(consumer->TryPop());
  }
}

TEST(Ring, TimedWaitsReturnWhenNothingHappens) {
  TwoRings rings(2);
  auto producer = RingProducer<Handle>::Attach(rings.down());
  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(producer && consumer);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(consumer->Pop(50ms).error().code, Errc::kTimeout);
  ASSERT_TRUE(producer->TryPush(Numbered(1)));
  ASSERT_TRUE(producer->TryPush(Numbered(2)));
  EXPECT_EQ(producer->Push(Numbered(3), 50ms).error().code, Errc::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

// CPU time this thread used while `wait` ran.
template <class Wait>
std::chrono::nanoseconds ThreadCpuOf(Wait&& wait) {
  const auto cpu = [] {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
  };
  const auto before = cpu();
  wait();
  return cpu() - before;
}

// Spinning is adaptive: a wait that outlasts spin_for turns it off (the next wait sleeps at
// once, costing no CPU), and a wait that spin_for would have covered turns it back on.
TEST(Ring, AWaiterStopsSpinningAfterALongWaitAndResumesAfterAShortOne) {
  constexpr auto kSpin = 20ms;
  TwoRings rings(2);
  auto producer = RingProducer<Handle>::Attach(rings.down());
  auto consumer = RingConsumer<Handle>::Attach(rings.down(), {.spin_for = kSpin});
  ASSERT_TRUE(producer && consumer);
  EXPECT_EQ(consumer->spin_budget(), kSpin);
  EXPECT_EQ(consumer->Pop(200ms).error().code, Errc::kTimeout);  // spun 20 ms, then slept
  EXPECT_EQ(consumer->spin_budget(), 0ns);
  const auto times_out = [&] { EXPECT_EQ(consumer->Pop(60ms).error().code, Errc::kTimeout); };
  EXPECT_LE(ThreadCpuOf(times_out), 5ms);  // slept at once
  EXPECT_EQ(consumer->spin_budget(), 0ns);

  // A wait that slept, woken by a push: it took no longer than measured from here, so when
  // that is within spin_for, spinning is back on (a loaded machine may take longer: no verdict).
  // (A push before the Pop began, as when starting the thread outlasts its 2 ms, makes a Pop
  // that never waited: no verdict either.)
  std::atomic<std::chrono::steady_clock::time_point> pushed_at{};
  std::thread later([&] {
    std::this_thread::sleep_for(2ms);
    pushed_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(producer->TryPush(Numbered(1)));
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(consumer->Pop(10s));
  const auto took = std::chrono::steady_clock::now() - start;
  later.join();
  if (took <= kSpin && pushed_at.load() > start) {
    EXPECT_EQ(consumer->spin_budget(), kSpin) << (took / 1us) << " us";
  }
  // A wait that never slept (its time was up at once) turns it back on whatever the machine.
  EXPECT_EQ(consumer->Pop(200ms).error().code, Errc::kTimeout);
  EXPECT_EQ(consumer->spin_budget(), 0ns);
  EXPECT_EQ(consumer->Pop(0ns).error().code, Errc::kTimeout);
  EXPECT_EQ(consumer->spin_budget(), kSpin);
}

TEST(Ring, ThreadsPassAMillionValuesInOrder) {
  constexpr std::uint32_t kCount = 1'000'000;
  TwoRings rings(64);
  auto producer = RingProducer<Handle>::Attach(rings.down(), {.spin_for = 0ns});
  auto consumer = RingConsumer<Handle>::Attach(rings.down(), {.spin_for = 0ns});
  ASSERT_TRUE(producer && consumer);
  std::thread sender([&] {
    for (std::uint32_t i = 0; i < kCount; ++i) {
      if (!producer->Push(Numbered(i), 10s)) return;
    }
  });
  std::uint32_t received = 0;
  for (; received < kCount; ++received) {
    auto value = consumer->Pop(10s);
    ASSERT_TRUE(value) << Describe(value.error());
    ASSERT_TRUE(IsNumbered(*value, received));
  }
  sender.join();
}

// 1,000,000 handles parent -> child -> parent through two rings in shared memory.
TEST(Ring, AMillionHandlesMakeARoundTripThroughAChildProcess) {
  constexpr std::uint32_t kCount = 1'000'000;
  TwoRings rings(256);
  ChildProcess echo = ChildProcess::Fork([&rings] {
    auto channel = Segment::Attach(rings.segment->name());  // the child maps it by name
    if (!channel) return 1;
    auto in = RingConsumer<Handle>::Attach(channel->payload().subspan(0, rings.bytes));
    auto out = RingProducer<Handle>::Attach(channel->payload().subspan(rings.bytes, rings.bytes));
    if (!in || !out) return 2;
    for (std::uint32_t i = 0; i < kCount; ++i) {
      auto value = in->Pop(30s);
      if (!value) return 3;
      if (!out->Push(*value, 30s)) return 4;
    }
    return 0;
  });

  auto down = RingProducer<Handle>::Attach(rings.down());
  auto up = RingConsumer<Handle>::Attach(rings.up());
  ASSERT_TRUE(down && up);
  std::thread sender([&] {
    for (std::uint32_t i = 0; i < kCount; ++i) {
      if (!down->Push(Numbered(i), 30s)) return;
    }
  });
  std::uint32_t received = 0;
  for (; received < kCount; ++received) {
    auto value = up->Pop(30s);
    if (!value) break;
    if (!IsNumbered(*value, received)) break;
  }
  sender.join();
  EXPECT_EQ(received, kCount) << "lost or reordered after " << received;
  EXPECT_EQ(echo.ExitCode(), 0);
}

TEST(Ring, AnEndHeldByALiveProcessIsBusyAndADeadOnesIsTakenOver) {
  TwoRings rings(8);
  LinePipe pipe;
  ChildProcess holder = ChildProcess::Fork([&] {
    auto producer = RingProducer<Handle>::Attach(rings.down());
    if (!producer || !producer->TryPush(Numbered(1))) return 1;
    pipe.WriteLine("attached");
    for (;;) ::pause();
  });
  ASSERT_EQ(pipe.ReadLine(), "attached");
  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(consumer);
  EXPECT_EQ(consumer->peer(), PeerState::kAlive);
  EXPECT_EQ(RingProducer<Handle>::Attach(rings.down()).error().code, Errc::kBusy);

  holder.Kill(SIGKILL);
  ASSERT_TRUE(holder.Wait());
  EXPECT_EQ(consumer->peer(), PeerState::kGone);
  auto successor = RingProducer<Handle>::Attach(rings.down());
  ASSERT_TRUE(successor) << Describe(successor.error());
  ASSERT_TRUE(successor->TryPush(Numbered(2)));
  EXPECT_TRUE(IsNumbered(*consumer->Pop(1s), 1));  // what the dead producer pushed survives
  EXPECT_TRUE(IsNumbered(*consumer->Pop(1s), 2));
}

TEST(Ring, PeerStateFollowsAttachAndDetach) {
  TwoRings rings(8);
  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(consumer);
  EXPECT_EQ(consumer->peer(), PeerState::kNotAttached);
  {
    auto producer = RingProducer<Handle>::Attach(rings.down());
    ASSERT_TRUE(producer);
    EXPECT_EQ(consumer->peer(), PeerState::kAlive);
    EXPECT_EQ(producer->peer(), PeerState::kAlive);
    ASSERT_TRUE(producer->TryPush(Numbered(5)));
  }
  EXPECT_EQ(consumer->peer(), PeerState::kGone);
  EXPECT_TRUE(IsNumbered(*consumer->Pop(1s), 5));  // drained before kPeerGone is reported
  EXPECT_EQ(consumer->Pop(1s).error().code, Errc::kPeerGone);
}

// An end that detaches (an orderly exit) wakes the other end's sleeping wait, which ends with
// kPeerGone then, not at its next peer check (here 60 s away).
TEST(Ring, ADetachingEndWakesTheOtherEndsWaitAtOnce) {
  TwoRings rings(2);
  const WaitPolicy sleep_at_once{.spin_for = 0ns, .peer_check = 60s};
  const auto waited = [](auto wait) {
    const auto start = std::chrono::steady_clock::now();
    const auto code = wait();
    return std::pair(code, std::chrono::steady_clock::now() - start);
  };
  {
    auto consumer = RingConsumer<Handle>::Attach(rings.down(), sleep_at_once);
    auto attached = RingProducer<Handle>::Attach(rings.down());
    ASSERT_TRUE(consumer && attached);
    std::optional<RingProducer<Handle>> producer(std::move(*attached));
    std::thread leaves([&producer] {
      std::this_thread::sleep_for(50ms);
      producer.reset();
    });
    const auto [code, took] = waited([&] { return consumer->Pop(120s).error().code; });
    leaves.join();
    EXPECT_EQ(code, Errc::kPeerGone);
    EXPECT_LT(took, 30s);
  }
  {
    auto producer = RingProducer<Handle>::Attach(rings.up(), sleep_at_once);
    auto attached = RingConsumer<Handle>::Attach(rings.up());
    ASSERT_TRUE(producer && attached);
    std::optional<RingConsumer<Handle>> consumer(std::move(*attached));
    ASSERT_TRUE(producer->TryPush(Numbered(1)) && producer->TryPush(Numbered(2)));  // full
    std::thread leaves([&consumer] {
      std::this_thread::sleep_for(50ms);
      consumer.reset();
    });
    const auto [code, took] =
        waited([&] { return producer->Push(Numbered(3), 120s).error().code; });
    leaves.join();
    EXPECT_EQ(code, Errc::kPeerGone);
    EXPECT_LT(took, 30s);
  }
}

// A producer that died after publishing a slot but before storing its position must not make
// its successor overwrite that slot; a consumer likewise must not read a slot twice.
TEST(Ring, ASuccessorRecoversPositionsThatAPredecessorDidNotStore) {
  TwoRings rings(4);
  auto* control = reinterpret_cast<detail::RingControl*>(rings.down().data());
  {
    auto producer = RingProducer<Handle>::Attach(rings.down());
    ASSERT_TRUE(producer);
    ASSERT_TRUE(producer->TryPush(Numbered(0)) && producer->TryPush(Numbered(1)));
  }
  control->producer.position.store(0);  // as if it died before storing either position
  {
    auto consumer = RingConsumer<Handle>::Attach(rings.down());
    ASSERT_TRUE(consumer);
    EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 0));
  }
  control->consumer.position.store(0);  // as if it died right after consuming

  auto producer = RingProducer<Handle>::Attach(rings.down());
  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(producer && consumer);
  ASSERT_TRUE(producer->TryPush(Numbered(2)));
  EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 1));
  EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 2));
  EXPECT_FALSE(consumer->TryPop());
}

TEST(Ring, AConsumerRecoversSlotsItsPredecessorReadThatTheProducerWroteAgain) {
  TwoRings rings(2);
  auto* control = reinterpret_cast<detail::RingControl*>(rings.down().data());
  auto producer = RingProducer<Handle>::Attach(rings.down());
  ASSERT_TRUE(producer);
  ASSERT_TRUE(producer->TryPush(Numbered(0)));
  {
    auto consumer = RingConsumer<Handle>::Attach(rings.down());
    ASSERT_TRUE(consumer);
    EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 0));
  }
  control->consumer.position.store(0);  // as if it died right after consuming
  // The producer goes on: position 2 is slot 0 again, which the dead consumer freed.
  ASSERT_TRUE(producer->TryPush(Numbered(1)) && producer->TryPush(Numbered(2)));

  auto consumer = RingConsumer<Handle>::Attach(rings.down());
  ASSERT_TRUE(consumer) << Describe(consumer.error());
  EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 1));
  EXPECT_TRUE(IsNumbered(*consumer->TryPop(), 2));
  EXPECT_FALSE(consumer->TryPop());
}

// The peer is killed with SIGKILL at random points of a busy push/pop loop. The survivor's
// timed wait always returns, it detects the death, and a successor resumes the stream with no
// value duplicated or reordered.
TEST(Ring, SurvivesAPeerKilledAtRandomPoints) {
  constexpr int kRounds = 40;
  TwoRings rings(16);
  std::mt19937 random(12345);
  auto down = RingProducer<Handle>::Attach(rings.down(), {.spin_for = 0ns, .peer_check = 5ms});
  auto up = RingConsumer<Handle>::Attach(rings.up(), {.spin_for = 0ns, .peer_check = 5ms});
  ASSERT_TRUE(down && up);
  std::uint32_t next_send = 0;
  std::uint32_t last_seen = 0;

  for (int round = 0; round < kRounds; ++round) {
    ChildProcess echo = ChildProcess::Fork([&rings] {
      auto in = RingConsumer<Handle>::Attach(rings.down());
      auto out = RingProducer<Handle>::Attach(rings.up());
      if (!in || !out) return 1;
      for (;;) {
        auto value = in->Pop(30s);
        if (!value || !out->Push(*value, 30s)) return 2;
      }
    });
    // The child's ends replace its dead predecessor's. Until it has claimed both, a wait sees
    // the predecessor and ends with kPeerGone before any kill (a slow fork, as under TSan).
    const auto attach_by = std::chrono::steady_clock::now() + 10s;
    while (down->peer() != PeerState::kAlive || up->peer() != PeerState::kAlive) {
      ASSERT_LT(std::chrono::steady_clock::now(), attach_by) << "round " << round;
      std::this_thread::sleep_for(100us);
    }
    const auto kill_at =
        std::chrono::steady_clock::now() + std::chrono::microseconds(random() % 20000);
    bool killed = false;
    for (;;) {
      if (!killed && std::chrono::steady_clock::now() >= kill_at) {
        echo.Kill(SIGKILL);
        killed = true;
      }
      // Keep the child busy on both rings, then drain what comes back.
      while (down->TryPush(Numbered(next_send))) ++next_send;
      auto value = up->Pop(killed ? 30s : 1ms);
      if (value) {
        ASSERT_GT(value->offset + 1, last_seen) << "duplicated or reordered";
        last_seen = value->offset + 1;
        ASSERT_TRUE(IsNumbered(*value, value->offset));
        continue;
      }
      if (value.error().code == Errc::kTimeout && !killed) continue;
      ASSERT_EQ(value.error().code, Errc::kPeerGone) << "round " << round;
      ASSERT_TRUE(killed) << "round " << round << ": the peer was reported gone before its kill";
      break;
    }
    ASSERT_TRUE(echo.Wait());
    EXPECT_EQ(up->peer(), PeerState::kGone);
    EXPECT_EQ(down->peer(), PeerState::kGone);
  }
  EXPECT_GT(last_seen, 0u);
}

}  // namespace
}  // namespace zcpipe::shm
