// Worker code: tasks and members that run in worker processes, registered by name, and the
// entry point a program calls first in main() so that it can serve as its own worker.
#pragma once

#include <tl/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "zcpipe/workgroup/error.h"

namespace zcpipe::workgroup {

// How many small arguments a request carries (Request::args, TaskContext::arg).
inline constexpr std::size_t kTaskArgs = 6;

// What a task or member call sees inside the worker process. Valid during the call only.
// Thread-compatible: the worker runs one call at a time.
class TaskContext {
 public:
  TaskContext(std::span<const std::byte> input, std::span<std::byte> output,
              std::span<const std::uint64_t, kTaskArgs> args, std::span<const std::byte> secret,
              std::function<void(std::uint64_t)> progress)
      : input_(input),
        output_(output),
        args_(args),
        secret_(secret),
        progress_(std::move(progress)) {}

  // The request payload, read in place in the caller's arena (or, with the copy transport, a
  // private copy of it).
  [[nodiscard]] std::span<const std::byte> input() const { return input_; }
  // Where the result goes; the call returns where its result ends: the result is
  // output()[result_start(), returned).
  [[nodiscard]] std::span<std::byte> output() const { return output_; }
  // For a result that does not begin at the start of output() (one built back to front, as
  // FlatBuffers builds): only output()[start, returned) goes back to the caller (and, with the
  // copy transport, through the socket). Default 0.
  void set_result_start(std::size_t start) { result_start_ = start; }
  [[nodiscard]] std::size_t result_start() const { return result_start_; }
  // The request's small arguments (Request::args). REQUIRES: i < kTaskArgs.
  [[nodiscard]] std::uint64_t arg(std::size_t i = 0) const { return args_[i]; }
  // Key material the caller delivered over the worker's private channel (a member's set-up
  // only; empty otherwise). It is wiped when the call returns: keep a copy that wipes itself.
  [[nodiscard]] std::span<const std::byte> secret() const { return secret_; }
  // Sends `value` to the caller's Request::on_progress (progress from inside the worker).
  void Progress(std::uint64_t value) const {
    if (progress_) progress_(value);
  }

 private:
  std::span<const std::byte> input_;
  std::span<std::byte> output_;
  std::span<const std::uint64_t, kTaskArgs> args_;
  std::span<const std::byte> secret_;
  std::function<void(std::uint64_t)> progress_;
  std::size_t result_start_ = 0;
};

// Where the result in TaskContext::output() ends (it begins at result_start()), or why the call
// failed: `return TaskFail("why");` (error.h). Only the message crosses to the caller.
using TaskResult = tl::expected<std::size_t, WorkError>;
using TaskFunction = std::function<TaskResult(TaskContext&)>;

// A stateful object living in one worker (a cache, an open database, a key schedule), created
// by Workgroup::AddMember and called through its MemberProxy. Its constructor receives the
// set-up context (input = the set-up arguments, secret = key material); throwing there is
// reported to the caller as an initialization error.
class Member {
 public:
  virtual ~Member() = default;
  [[nodiscard]] virtual TaskResult Invoke(TaskContext& call) = 0;
};
using MemberFactory = std::function<std::unique_ptr<Member>(TaskContext& setup)>;

// Registers worker code under `name` (at most 87 bytes; closures cannot cross a process boundary,
// names can). Register in every process that runs the program the same way: at namespace scope
// (`static const bool r = RegisterTask(...)`) or in main() before RunIfWorker. Returns true;
// registering a name twice replaces the earlier entry. Thread-safe.
bool RegisterTask(const std::string& name, TaskFunction task);
bool RegisterMember(const std::string& name, MemberFactory factory);
template <class T>
bool RegisterMember(const std::string& name) {
  return RegisterMember(name, [](TaskContext& setup) { return std::make_unique<T>(setup); });
}

// A Workgroup starts its workers by running this program's executable again with a marker
// argument. Call this first in main():
//   if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
// In a worker it serves requests until told to stop (or until the coordinator dies) and
// returns the exit code; in any other process it returns nullopt at once.
[[nodiscard]] std::optional<int> RunIfWorker(int argc, char** argv);

}  // namespace zcpipe::workgroup
