// EventChannel: delivers a job's error and progress events to the caller's listeners.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "zcpipe/pipeline/events.h"

namespace zcpipe {

// The caller side of a job's two channels. Events are delivered on one dispatcher thread of the
// channel's own, never on the thread that published them, and publishing never waits for a
// listener: listeners are called outside the channel's lock.
//
//  - Errors go into an unbounded FIFO: each one is delivered exactly once, in publish order
//    (per publishing thread; across threads, in the order the lock was taken). Never dropped,
//    never coalesced. The dispatcher wakes for an error at once, whatever the throttle.
//  - Progress goes into one latest-wins slot. The dispatcher delivers the latest snapshot at most
//    once per `interval` (measured between the starts of two deliveries; the first one may be
//    delivered at once), so a slow listener sees fewer, newer snapshots, never a backlog.
//    Latency: a snapshot waits for delivery at most `interval`, plus the listener call in
//    progress, plus scheduling; under a steady stream it is usually far less, because the slot
//    always holds the newest one. An interval of 0 means no throttle.
//  - Close(final) delivers every error published before it, then `final` with final = true —
//    always, however recently the last snapshot was delivered — and joins the dispatcher. A
//    snapshot still waiting in the slot is superseded by `final` and not delivered. A second
//    Close does nothing.
//  - The destructor, without Close, delivers the errors already published, delivers no more
//    progress (neither the waiting snapshot nor a final one) and joins the dispatcher.
//  - Events published once Close (or the destructor) has begun are discarded: stop the
//    publishers first.
//  - A listener that throws (std::exception or anything else) is counted in
//    listener_failures(); delivery goes on. A slow listener only delays delivery; Close and the
//    destructor wait for the call in progress.
//  - An empty listener is allowed: its events are discarded, but counted as delivered.
//
// Thread-safety: Publish* and the accessors are safe from any number of threads at once, also
// from a listener. Close from one thread, never from a listener (the dispatcher cannot join
// itself); the same goes for the destructor.
class EventChannel {
 public:
  struct Listeners {
    std::function<void(const ErrorEvent&)> on_error{};
    std::function<void(const ProgressEvent&)> on_progress{};
  };

  // Delivery latencies kept for progress_latency().
  static constexpr std::size_t kLatencySamples = 4096;

  // Starts the dispatcher thread (std::system_error if it cannot). A negative interval is 0.
  EventChannel(Listeners listeners, std::chrono::milliseconds interval);
  EventChannel(const EventChannel&) = delete;
  EventChannel& operator=(const EventChannel&) = delete;
  ~EventChannel();

  void PublishError(ErrorEvent event);
  void PublishProgress(const ProgressEvent& event);
  // Delivers the pending errors, then `final_event` with final = true, and returns when it was
  // delivered. No-op after the first call.
  void Close(ProgressEvent final_event);

  // Events handed to their listener (whether it returned or threw) or discarded for lack of one.
  // Exact once Close has returned.
  [[nodiscard]] std::uint64_t errors_delivered() const;
  [[nodiscard]] std::uint64_t progress_delivered() const;  // including the final event
  [[nodiscard]] std::uint64_t listener_failures() const;

  // Time from ProgressEvent::taken to the start of its delivery, over the last kLatencySamples
  // progress deliveries (a snapshot whose `taken` was left at the epoch is not sampled).
  // Nearest-rank percentiles, in microseconds; all zero when there is no sample.
  struct Latency {
    double p50_us = 0;
    double p99_us = 0;
    std::size_t samples = 0;
  };
  [[nodiscard]] Latency progress_latency() const;

 private:
  using Clock = std::chrono::steady_clock;
  enum class State : std::uint8_t { kOpen, kClosing, kStopping };

  void Run();  // the dispatcher
  void Deliver(const ErrorEvent& event);
  void Deliver(const ProgressEvent& event);
  template <class Event>
  void Call(const std::function<void(const Event&)>& listener, const Event& event);

  const Listeners listeners_;
  const Clock::duration interval_;

  std::mutex mutex_;
  std::condition_variable wake_;
  State state_ = State::kOpen;                // guarded by mutex_
  std::deque<ErrorEvent> errors_;             // guarded by mutex_
  std::optional<ProgressEvent> progress_;     // guarded by mutex_; the latest snapshot
  std::optional<ProgressEvent> final_event_;  // guarded by mutex_; set by Close

  std::atomic<std::uint64_t> errors_delivered_{0};
  std::atomic<std::uint64_t> progress_delivered_{0};
  std::atomic<std::uint64_t> listener_failures_{0};

  mutable std::mutex latency_mutex_;
  // Guarded by latency_mutex_: a ring of the last samples, and how many were ever recorded.
  std::vector<double> latency_us_ = std::vector<double>(kLatencySamples);
  std::size_t latency_recorded_ = 0;

  std::thread dispatcher_;  // last: starts once everything above is constructed
};

}  // namespace zcpipe
