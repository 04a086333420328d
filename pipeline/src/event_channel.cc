#include "zcpipe/pipeline/event_channel.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace zcpipe {

EventChannel::EventChannel(Listeners listeners, std::chrono::milliseconds interval)
    : listeners_(std::move(listeners)),
      interval_(std::max(interval, std::chrono::milliseconds::zero())),
      dispatcher_([this] { Run(); }) {}

EventChannel::~EventChannel() {
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kOpen) state_ = State::kStopping;
  }
  wake_.notify_one();
  if (dispatcher_.joinable()) dispatcher_.join();
}

// The dispatcher sleeps only while the queue is empty, and without a deadline only while the slot
// is empty too; it checks both under the lock. So a publisher needs to wake it only when it fills
// an empty queue or an empty slot: a full slot is already covered by the dispatcher's deadline.
void EventChannel::PublishError(ErrorEvent event) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kOpen) return;
    was_empty = errors_.empty();
    errors_.push_back(std::move(event));
  }
  if (was_empty) wake_.notify_one();
}

void EventChannel::PublishProgress(const ProgressEvent& event) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kOpen) return;
    was_empty = !progress_.has_value();
    progress_ = event;
  }
  if (was_empty) wake_.notify_one();
}

void EventChannel::Close(ProgressEvent final_event) {
  final_event.final = true;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kOpen) return;
    state_ = State::kClosing;
    final_event_ = std::move(final_event);
  }
  wake_.notify_one();
  dispatcher_.join();
}

void EventChannel::Run() {
  auto next_progress = Clock::time_point::min();  // the first snapshot goes at once
  std::deque<ErrorEvent> errors;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (errors_.empty() && state_ == State::kOpen) {
      if (!progress_) {
        wake_.wait(lock);
        continue;
      }
      if (Clock::now() < next_progress) {
        wake_.wait_until(lock, next_progress);
        continue;
      }
    }
    const State state = state_;
    errors.swap(errors_);
    std::optional<ProgressEvent> progress;
    if (state == State::kClosing) {
      progress.swap(final_event_);
    } else if (state == State::kOpen && progress_) {
      // next_progress counts from this `now`, which precedes the listener call.
      if (const auto now = Clock::now(); now >= next_progress) {
        progress.swap(progress_);
        next_progress = now + interval_;
      }
    }
    lock.unlock();
    for (const ErrorEvent& event : errors) Deliver(event);
    errors.clear();
    if (progress) Deliver(*progress);
    if (state != State::kOpen) return;  // publishers add nothing once the state has changed
    lock.lock();
  }
}

template <class Event>
void EventChannel::Call(const std::function<void(const Event&)>& listener, const Event& event) {
  if (!listener) return;
  try {
    listener(event);
  } catch (...) {  // std::exception or anything else: the listener's problem, not the job's
    listener_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

void EventChannel::Deliver(const ErrorEvent& event) {
  Call(listeners_.on_error, event);
  errors_delivered_.fetch_add(1, std::memory_order_relaxed);
}

void EventChannel::Deliver(const ProgressEvent& event) {
  if (event.taken != Clock::time_point{}) {
    const std::chrono::duration<double, std::micro> latency = Clock::now() - event.taken;
    std::lock_guard lock(latency_mutex_);
    latency_us_[latency_recorded_++ % kLatencySamples] = latency.count();
  }
  Call(listeners_.on_progress, event);
  progress_delivered_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t EventChannel::errors_delivered() const {
  return errors_delivered_.load(std::memory_order_relaxed);
}

std::uint64_t EventChannel::progress_delivered() const {
  return progress_delivered_.load(std::memory_order_relaxed);
}

std::uint64_t EventChannel::listener_failures() const {
  return listener_failures_.load(std::memory_order_relaxed);
}

EventChannel::Latency EventChannel::progress_latency() const {
  std::vector<double> samples;
  {
    std::lock_guard lock(latency_mutex_);
    const auto n = static_cast<std::ptrdiff_t>(std::min(latency_recorded_, kLatencySamples));
    samples.assign(latency_us_.begin(), latency_us_.begin() + n);
  }
  if (samples.empty()) return {};
  // Nearest rank: the smallest sample with at least p of all samples at or below it.
  const auto percentile = [&samples](double p) {
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(samples.size())));
    const auto nth =
        samples.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
    std::nth_element(samples.begin(), nth, samples.end());
    return *nth;
  };
  return {.p50_us = percentile(0.50), .p99_us = percentile(0.99), .samples = samples.size()};
}

}  // namespace zcpipe
