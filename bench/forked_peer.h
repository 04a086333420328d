// ForkedPeer: the receiving side of a benchmark, run in a child process.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace zcpipe::bench {

// Context switches of a process: voluntary ones are blocking waits (a futex sleep, a read on
// an empty pipe); involuntary ones are preemptions.
struct ContextSwitches {
  long voluntary = 0;
  long involuntary = 0;
};

inline ContextSwitches SwitchesIn(const struct rusage& usage) {
  return {usage.ru_nvcsw, usage.ru_nivcsw};
}

// Exit statuses of a peer body; anything but kPeerOk fails the benchmark.
inline constexpr int kPeerOk = 0;
inline constexpr int kPeerFailed = 1;     // the body reported an error (and printed why)
inline constexpr int kPeerException = 2;  // the body threw

// Prints "handoff peer <pid>: <what>[: <why>]" to stderr and returns kPeerFailed; for peer bodies.
inline int PeerFail(const char* what, const std::string& why = {}) {
  std::fprintf(stderr, "handoff peer %d: %s%s%s\n", static_cast<int>(::getpid()), what,
               why.empty() ? "" : ": ", why.c_str());
  return kPeerFailed;
}

// A child process forked from the (single-threaded) benchmark process. The child runs the body
// and leaves with _exit, never returning into the benchmark framework and never running the
// parent's destructors or atexit handlers. The parent joins it after the timed loop; if the
// parent gives up early (an error), destroying the ForkedPeer kills and reaps the child.
class ForkedPeer {
 public:
  // Forks and runs `body()` (returns an exit status, kPeerOk on success) in the child.
  // Returns nullopt, with errno set, if fork fails.
  template <class Body>
  static std::optional<ForkedPeer> Start(Body&& body) {
    std::fflush(nullptr);  // nothing buffered may be written twice
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) return std::nullopt;
    if (pid == 0) {
      int status = kPeerException;
      try {
        status = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "peer %d: exception: %s\n", static_cast<int>(::getpid()), e.what());
      } catch (...) {
        std::fprintf(stderr, "peer %d: exception\n", static_cast<int>(::getpid()));
      }
      ::_exit(status);
    }
    return ForkedPeer(pid, started);
  }

  ForkedPeer(ForkedPeer&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        started_(other.started_),
        context_switches_(other.context_switches_),
        cpu_share_(other.cpu_share_) {}
  ForkedPeer& operator=(ForkedPeer&&) = delete;
  ~ForkedPeer() { Kill(); }

  // Waits up to `timeout` for the child to exit. Returns an empty string if it exited with
  // kPeerOk, else what went wrong (the child is killed if it did not exit in time).
  // Afterwards, `context_switches()` and `cpu_share()` tell how the child spent its life.
  [[nodiscard]] std::string Join(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (pid_ <= 0) return "no peer";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      struct rusage usage {};
      const pid_t done = ::wait4(pid_, &status, WNOHANG, &usage);
      if (done == pid_) {
        pid_ = -1;
        context_switches_ = SwitchesIn(usage);
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started_;
        const double cpu =
            static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
        cpu_share_ = wall.count() > 0 ? cpu / wall.count() : 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == kPeerOk) return {};
        if (WIFEXITED(status))
          return "peer exited with status " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return "peer died of signal " + std::to_string(WTERMSIG(status));
        return "peer stopped abnormally";
      }
      if (done < 0 && errno != EINTR) {
        pid_ = -1;
        return "wait4 failed";
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        Kill();
        return "peer did not exit in time";
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // The child's context switches over its whole life, once Join reaped it; else zeros.
  [[nodiscard]] ContextSwitches context_switches() const { return context_switches_; }
  // The child's CPU time over its wall-clock life, once Join reaped it; else 0. A spinning
  // child that kept its core is near 1; well below 1, it was off its core.
  [[nodiscard]] double cpu_share() const { return cpu_share_; }

  // Kills and reaps the child, if it is still there.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  ForkedPeer(pid_t pid, std::chrono::steady_clock::time_point started)
      : pid_(pid), started_(started) {}
  pid_t pid_;
  std::chrono::steady_clock::time_point started_;
  ContextSwitches context_switches_;
  double cpu_share_ = 0;
};

}  // namespace zcpipe::bench
