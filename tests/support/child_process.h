// Test helpers for multi-process tests: a forked child and a pipe to talk to it.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace zcpipe::testing {

// A forked child process running `body`; it exits with body's return value (_exit, so the
// parent's atexit hooks and static destructors do not run twice), or 99 if body throws.
// The destructor SIGKILLs and reaps a child that is still running.
// REQUIRES: the calling process is single-threaded when Fork is called.
class ChildProcess {
 public:
  static ChildProcess Fork(const std::function<int()>& body);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  void Kill(int signal) const;
  // Waits up to `timeout` for the child to end; returns its wait status, nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Exit code if the child exited normally within `timeout`, else -1 (or -signal if killed).
  int ExitCode(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// A pipe for lines of text between parent and child (both ends open in both after fork).
class LinePipe {
 public:
  LinePipe();
  ~LinePipe();
  LinePipe(const LinePipe&) = delete;
  LinePipe& operator=(const LinePipe&) = delete;

  void WriteLine(const std::string& line) const;
  // The next line, or nullopt after `timeout` or at end of file.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int read_fd_;
  int write_fd_;
  std::string buffer_;
};

// For a child about to fill /dev/shm: gives this process a mount namespace of its own with a
// tmpfs of `size` ("4m") on /dev/shm. False if it cannot (it needs root).
bool MountPrivateDevShm(const char* size);

// Whether /dev/shm/NAME exists.
bool ShmExists(const std::string& name);

}  // namespace zcpipe::testing
