// A transform that holds a run at a given row until the test lets it go on: to stop, kill or
// cancel an import midway whatever the machine's speed (no sleep, no timer).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "zcpipe/stages/transform.h"

namespace zcpipe::testing {

// Copies the columns `columns` of its input. The batch holding the row whose first column (an
// int64) is `stop_at` waits in Apply until Open() is called, forever if it never is (in a
// child process that the test kills): no chunk from that one on is written before. reached()
// says whether that batch got there. Thread-safe.
class GateTransform final : public stages::Transform {
 public:
  explicit GateTransform(std::int64_t stop_at,
                         std::vector<std::string> columns = {"id", "name", "amount"})
      : stop_at_(stop_at), copy_(std::move(columns)) {}

  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Waits until the gate holds a batch; false after `timeout` without one.
  template <class Duration>
  bool WaitUntilReached(Duration timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return reached_; });
  }

  stages::Schema OutputSchema(const stages::Schema& input) const override {
    return copy_.OutputSchema(input);
  }
  stages::StageResult<stages::TransformOutput> Apply(const stages::BatchView& in,
                                                     std::span<std::byte> out,
                                                     stages::InputErrors& rejected) const override {
    const auto ids = in.column(0);
    for (std::uint32_t row = 0; row < in.row_count(); ++row) {
      if (ids.int64(row) != stop_at_) continue;
      std::unique_lock lock(mutex_);
      reached_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
    }
    return copy_.Apply(in, out, rejected);
  }

 private:
  std::int64_t stop_at_;
  stages::SelectTransform copy_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable bool reached_ = false;
  bool open_ = false;
};

}  // namespace zcpipe::testing
