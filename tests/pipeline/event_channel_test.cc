#include "zcpipe/pipeline/event_channel.h"

#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace zcpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ErrorEvent Error(std::uint64_t job, std::uint64_t chunk) {
  ErrorEvent event;
  event.job = job;
  event.kind = ErrorKind::kInput;
  event.chunk = chunk;
  event.reason = "bad int64";
  return event;
}

ProgressEvent Progress(std::uint64_t rows_in) {
  ProgressEvent event;
  event.job = 7;
  event.rows_in = rows_in;
  event.rows_out = rows_in;
  event.taken = Clock::now();
  return event;
}

// Everything the listeners saw, in order: errors as ('e', chunk), progress as ('p', rows_in).
struct Recorder {
  struct Call {
    char what;
    std::uint64_t value;
    bool final = false;
    Clock::time_point at{};  // set by Add
  };

  EventChannel::Listeners Listeners() {
    return {.on_error =
                [this](const ErrorEvent& e) {
                  Add({'e', e.chunk.value_or(~0ull)});
                },
            .on_progress =
                [this](const ProgressEvent& p) {
                  Add({'p', p.rows_in, p.final});
                }};
  }
  void Add(Call call) {
    call.at = Clock::now();
    std::lock_guard lock(mutex);
    calls.push_back(call);
  }
  std::vector<Call> Calls() {
    std::lock_guard lock(mutex);
    return calls;
  }

  std::mutex mutex;
  std::vector<Call> calls;
};

// Polls `done` until it holds or 10 s passed.
template <class Pred>
bool Eventually(Pred done) {
  for (const auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(50us);
  }
  return done();
}

TEST(EventChannel, EveryErrorArrivesOnceInEachThreadsOrder) {
  constexpr std::uint64_t kThreads = 4;
  constexpr std::uint64_t kPerThread = 20'000;
  std::vector<std::vector<std::uint64_t>> seen(kThreads);
  std::thread::id listener_thread;
  EventChannel channel({.on_error =
                            [&](const ErrorEvent& e) {
                              listener_thread = std::this_thread::get_id();
                              seen.at(e.job).push_back(*e.chunk);
                            }},
                       1ms);
  std::vector<std::thread> publishers;
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&channel, t] {
      for (std::uint64_t i = 0; i < kPerThread; ++i) channel.PublishError(Error(t, i));
    });
  }
  for (std::thread& publisher : publishers) publisher.join();
  channel.Close({});

  EXPECT_EQ(channel.errors_delivered(), kThreads * kPerThread);
  EXPECT_EQ(channel.progress_delivered(), 1u);  // the final event
  EXPECT_EQ(channel.listener_failures(), 0u);
  EXPECT_NE(listener_thread, std::this_thread::get_id());
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), kPerThread) << "thread " << t;
    for (std::uint64_t i = 0; i < kPerThread; ++i) {
      ASSERT_EQ(seen[t][i], i) << "thread " << t;
    }
  }
}

TEST(EventChannel, PublishersNeverWaitForASlowListener) {
  constexpr std::uint64_t kThreads = 4;
  constexpr std::uint64_t kPerThread = 25'000;
  Recorder recorder;
  std::promise<void> gate;
  auto listeners = recorder.Listeners();
  // Each call waits until every publisher is done: publishers that waited for it would never be.
  listeners.on_progress = [&recorder, opened = gate.get_future().share()](const ProgressEvent& p) {
    recorder.Add({'p', p.rows_in, p.final});
    opened.wait();
  };
  EventChannel channel(std::move(listeners), 1ms);

  auto published = std::async(std::launch::async, [&channel] {
    std::vector<std::thread> publishers;
    for (std::uint64_t t = 0; t < kThreads; ++t) {
      publishers.emplace_back([&channel] {
        for (std::uint64_t i = 1; i <= kPerThread; ++i) channel.PublishProgress(Progress(i));
      });
    }
    for (std::thread& publisher : publishers) publisher.join();
  });
  const bool done = published.wait_for(60s) == std::future_status::ready;
  gate.set_value();
  ASSERT_TRUE(done) << "the publishers waited for the listener";

  ProgressEvent totals = Progress(kThreads * kPerThread);
  totals.rows_out = 399'000;
  totals.rows_rejected = 600;
  totals.rows_filtered = 400;
  channel.Close(totals);

  const auto calls = recorder.Calls();
  // At most: the first snapshot, the newest one when that call returned, then the final.
  ASSERT_GE(calls.size(), 1u);
  EXPECT_LE(calls.size(), 3u);
  EXPECT_EQ(channel.progress_delivered(), calls.size());
  for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
    EXPECT_FALSE(calls[i].final);
    EXPECT_GE(calls[i].value, 1u);
    EXPECT_LE(calls[i].value, kPerThread);
  }
  EXPECT_TRUE(calls.back().final);
  EXPECT_EQ(calls.back().value, kThreads * kPerThread);
}

TEST(EventChannel, FinalEventCarriesExactTotalsAndIsMarkedFinal) {
  std::vector<ProgressEvent> seen;
  EventChannel channel({.on_progress = [&](const ProgressEvent& p) { seen.push_back(p); }}, 1ms);
  ProgressEvent totals;
  totals.job = 3;
  totals.rows_in = 1000;
  totals.rows_out = 990;
  totals.rows_rejected = 7;
  totals.rows_filtered = 3;
  totals.stages[2].rows = 995;
  totals.final = false;  // Close marks it
  channel.Close(totals);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].final);
  EXPECT_EQ(seen[0].job, 3u);
  EXPECT_EQ(seen[0].rows_in, 1000u);
  EXPECT_EQ(seen[0].rows_out, 990u);
  EXPECT_EQ(seen[0].rows_rejected, 7u);
  EXPECT_EQ(seen[0].rows_filtered, 3u);
  EXPECT_EQ(seen[0].stages[2].rows, 995u);
}

TEST(EventChannel, ThrowingListenersAreCountedAndDeliveryGoesOn) {
  std::vector<std::uint64_t> errors;
  std::uint64_t progress_calls = 0;
  bool saw_final = false;
  EventChannel channel({.on_error =
                            [&](const ErrorEvent& e) {
                              errors.push_back(*e.chunk);
                              if (*e.chunk % 2 == 0) throw std::runtime_error("listener bug");
                              throw 42;  // not a std::exception
                            },
                        .on_progress =
                            [&](const ProgressEvent& p) {
                              ++progress_calls;
                              saw_final = saw_final || p.final;
                              if (p.final) throw "final";
                              throw std::logic_error("progress listener bug");
                            }},
                       1ms);
  for (std::uint64_t i = 0; i < 10; ++i) channel.PublishError(Error(1, i));
  channel.PublishProgress(Progress(5));
  ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 1; }));
  for (std::uint64_t i = 10; i < 20; ++i) channel.PublishError(Error(1, i));
  channel.Close(Progress(20));

  ASSERT_EQ(errors.size(), 20u);
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ(errors[i], i);
  EXPECT_EQ(progress_calls, 2u);
  EXPECT_TRUE(saw_final);
  EXPECT_EQ(channel.errors_delivered(), 20u);
  EXPECT_EQ(channel.progress_delivered(), 2u);
  EXPECT_EQ(channel.listener_failures(), 22u);
}

TEST(EventChannel, CloseDeliversPendingErrorsThenTheFinalEventLast) {
  Recorder recorder;
  std::promise<void> gate;
  auto listeners = recorder.Listeners();
  listeners.on_error = [&recorder, opened = gate.get_future().share()](const ErrorEvent& e) {
    recorder.Add({'e', *e.chunk});
    if (*e.chunk == 0) opened.wait();  // keeps the other errors pending
  };
  EventChannel channel(std::move(listeners), 1h);
  channel.PublishProgress(Progress(1));  // the first snapshot goes at once
  ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 1; }));
  channel.PublishError(Error(1, 0));
  ASSERT_TRUE(Eventually([&] { return recorder.Calls().size() == 2; }));      // in error 0's call
  for (std::uint64_t i = 1; i < 100; ++i) channel.PublishError(Error(1, i));  // queued
  channel.PublishProgress(Progress(2));  // throttled for an hour, then superseded by the final
  EXPECT_EQ(channel.errors_delivered(), 0u);
  std::thread opener([&gate] {
    std::this_thread::sleep_for(100ms);  // most likely after Close has begun
    gate.set_value();
  });
  const auto start = Clock::now();
  channel.Close(Progress(3));
  EXPECT_LT(Clock::now() - start, 10s);  // not the throttle's hour
  opener.join();

  const auto calls = recorder.Calls();
  ASSERT_EQ(calls.size(), 1u + 100u + 1u);
  EXPECT_EQ(calls.front().what, 'p');
  EXPECT_EQ(calls.front().value, 1u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(calls[1 + i].what, 'e');
    EXPECT_EQ(calls[1 + i].value, i);
  }
  EXPECT_EQ(calls.back().what, 'p');
  EXPECT_EQ(calls.back().value, 3u);
  EXPECT_TRUE(calls.back().final);
  EXPECT_EQ(channel.errors_delivered(), 100u);
  EXPECT_EQ(channel.progress_delivered(), 2u);
}

TEST(EventChannel, CloseTwiceDeliversOneFinalAndLaterEventsAreDiscarded) {
  Recorder recorder;
  EventChannel channel(recorder.Listeners(), 1ms);
  channel.PublishError(Error(1, 0));
  channel.Close(Progress(1));
  channel.Close(Progress(2));
  channel.PublishError(Error(1, 1));
  channel.PublishProgress(Progress(3));
  const auto calls = recorder.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].what, 'e');
  EXPECT_EQ(calls[1].value, 1u);
  EXPECT_TRUE(calls[1].final);
  EXPECT_EQ(channel.errors_delivered(), 1u);
  EXPECT_EQ(channel.progress_delivered(), 1u);
}

TEST(EventChannel, ProgressIsThrottledToOncePerInterval) {
  constexpr auto kInterval = 50ms;
  Recorder recorder;
  EventChannel channel(recorder.Listeners(), kInterval);
  const auto start = Clock::now();
  std::uint64_t rows = 0;
  // 200 ms of publishing, and on until the first delivery (which a loaded machine may delay).
  while (Clock::now() - start < 200ms || channel.progress_delivered() == 0) {
    channel.PublishProgress(Progress(++rows));
    std::this_thread::sleep_for(100us);
  }
  const auto end = Clock::now();
  channel.Close(Progress(rows));

  // Deliveries start at least kInterval apart, none before the first publish: during the burst
  // there is room for at most burst / kInterval + 1 of them (5 for 200 ms), and after it for
  // one more (the slot is no longer refilled).
  const auto room = static_cast<std::size_t>((end - start) / kInterval) + 1;
  const auto calls = recorder.Calls();
  ASSERT_GE(calls.size(), 2u);
  std::size_t during = 0;
  for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
    EXPECT_FALSE(calls[i].final);
    if (calls[i].at <= end) ++during;
    if (i > 0) {
      EXPECT_GT(calls[i].value, calls[i - 1].value);  // newer snapshots only
    }
  }
  EXPECT_GE(during, 1u);
  EXPECT_LE(during, room) << "burst of " << (end - start) / 1ms << " ms";
  EXPECT_LE(calls.size() - 1, room + 1);
  EXPECT_TRUE(calls.back().final);
  EXPECT_EQ(calls.back().value, rows);
}

TEST(EventChannel, ASlowListenerGetsTheLatestSnapshotNotABacklog) {
  Recorder recorder;
  std::promise<void> gate;
  auto listeners = recorder.Listeners();
  listeners.on_progress = [&recorder, opened = gate.get_future().share()](const ProgressEvent& p) {
    recorder.Add({'p', p.rows_in, p.final});
    if (p.rows_in == 1) opened.wait();
  };
  EventChannel channel(std::move(listeners), 0ms);
  channel.PublishProgress(Progress(1));
  ASSERT_TRUE(Eventually([&] { return recorder.Calls().size() == 1; }));  // in the first call
  for (std::uint64_t i = 2; i <= 100; ++i) channel.PublishProgress(Progress(i));
  gate.set_value();
  ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 2; }));
  channel.Close(Progress(100));
  const auto calls = recorder.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].value, 100u);
  EXPECT_FALSE(calls[1].final);
  EXPECT_TRUE(calls[2].final);
}

TEST(EventChannel, ErrorsDoNotWaitForTheThrottle) {
  Recorder recorder;
  EventChannel channel(recorder.Listeners(), 1h);
  channel.PublishProgress(Progress(1));
  ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 1; }));
  channel.PublishProgress(Progress(2));  // due in an hour
  std::this_thread::sleep_for(20ms);     // the dispatcher is most likely asleep again
  channel.PublishError(Error(1, 0));
  EXPECT_TRUE(Eventually([&] { return channel.errors_delivered() == 1; }));
  EXPECT_EQ(channel.progress_delivered(), 1u);
  channel.Close(Progress(3));
}

TEST(EventChannel, NullListenersDiscardButCount) {
  EventChannel channel({}, 1ms);
  for (std::uint64_t i = 0; i < 50; ++i) channel.PublishError(Error(1, i));
  channel.PublishProgress(Progress(1));
  channel.Close(Progress(2));
  EXPECT_EQ(channel.errors_delivered(), 50u);
  EXPECT_GE(channel.progress_delivered(), 1u);
  EXPECT_LE(channel.progress_delivered(), 2u);
  EXPECT_EQ(channel.listener_failures(), 0u);
}

TEST(EventChannel, DestructorWithoutCloseDeliversErrorsButNoFinal) {
  Recorder recorder;
  const auto start = Clock::now();
  {
    EventChannel channel(recorder.Listeners(), 1h);
    channel.PublishProgress(Progress(1));
    ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 1; }));
    channel.PublishProgress(Progress(2));  // due in an hour: must not hold up the destructor
    for (std::uint64_t i = 0; i < 10; ++i) channel.PublishError(Error(1, i));
  }
  EXPECT_LT(Clock::now() - start, 10s);
  const auto calls = recorder.Calls();
  ASSERT_EQ(calls.size(), 1u + 10u);
  EXPECT_EQ(calls[0].what, 'p');
  EXPECT_FALSE(calls[0].final);
  for (std::uint64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(calls[1 + i].what, 'e');
    EXPECT_EQ(calls[1 + i].value, i);
  }
}

TEST(EventChannel, DestructorOfAnIdleChannelReturns) {
  { EventChannel channel({}, 1h); }
  { EventChannel channel({}, 0ms); }
}

TEST(EventChannel, LatencyKeepsTheLastSamples) {
  EventChannel channel({}, 0ms);
  EXPECT_EQ(channel.progress_latency().samples, 0u);
  constexpr std::uint64_t kEvents = EventChannel::kLatencySamples + 100;
  for (std::uint64_t i = 1; i <= kEvents; ++i) {
    channel.PublishProgress(Progress(i));
    ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == i; }));
  }
  ProgressEvent untimed;  // taken left at the epoch: not sampled
  channel.PublishProgress(untimed);
  ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == kEvents + 1; }));
  const auto latency = channel.progress_latency();
  EXPECT_EQ(latency.samples, EventChannel::kLatencySamples);
  EXPECT_GT(latency.p50_us, 0);
  EXPECT_LE(latency.p50_us, latency.p99_us);
  EXPECT_LT(latency.p99_us, 10e6);  // not measured from the epoch
  channel.Close({});
}

TEST(EventChannel, LatencyPercentilesAreNearestRank) {
  EventChannel channel({}, 0ms);
  // Latencies of k * 10 s, plus the delivery's own: less than 10 s, or Eventually failed.
  for (std::uint64_t k = 100; k >= 1; --k) {
    ProgressEvent event = Progress(k);
    event.taken -= k * 10s;
    channel.PublishProgress(event);
    ASSERT_TRUE(Eventually([&] { return channel.progress_delivered() == 101 - k; }));
  }
  const auto latency = channel.progress_latency();
  EXPECT_EQ(latency.samples, 100u);
  // The 50th and the 99th of 100 samples.
  EXPECT_GE(latency.p50_us, 500e6);
  EXPECT_LT(latency.p50_us, 510e6);
  EXPECT_GE(latency.p99_us, 990e6);
  EXPECT_LT(latency.p99_us, 1000e6);
  channel.Close({});
}

}  // namespace
}  // namespace zcpipe
