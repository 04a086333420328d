// InterruptWatcher: Ctrl-C (and SIGTERM, SIGHUP) cancels the running jobs instead of killing
// the process, so that they end cleanly: no partial output, no shared memory left behind.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace zcpipe::cli {

// The three signals are blocked in every thread (BlockInterrupts, before any thread starts: new
// threads inherit the mask) and taken by one thread of the watcher's with sigwait, which calls
// `on_interrupt` once, at the first of them; later ones are ignored while the jobs wind down.
//
// With the signals blocked, the shm library's own SIGINT/SIGTERM/SIGHUP handlers (which unlink
// segments and re-raise, for programs that do not handle these signals) never run: the jobs
// remove their segments themselves when they end.
//
// Thread-safety: interrupted() from any thread. `on_interrupt` runs on the watcher's thread.
class InterruptWatcher {
 public:
  // Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in threads it starts later.
  // REQUIRES: no other thread runs yet (one that does keeps receiving the signals).
  static void BlockInterrupts();

  // REQUIRES: BlockInterrupts() was called.
  explicit InterruptWatcher(std::function<void()> on_interrupt);
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;
  ~InterruptWatcher();  // stops and joins the thread; the signals stay blocked

  [[nodiscard]] bool interrupted() const { return interrupted_.load(); }

 private:
  void Watch();

  const std::function<void()> on_interrupt_;
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: starts once the rest is constructed
};

}  // namespace zcpipe::cli
