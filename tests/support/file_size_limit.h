// FileSizeLimit: makes this process's file writes fail past a size, as a full disk makes them
// fail, for tests of what a job does when its output cannot be written.
#pragma once

#include <sys/resource.h>

#include <csignal>

#include <gtest/gtest.h>

namespace zcpipe::testing {

// While it lives, no file this process writes may grow beyond `bytes`: a write past that fails
// with EFBIG (SIGXFSZ ignored), as a full disk fails it with ENOSPC. The arena's shared memory
// counts too: leave it room.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_signal_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    const rlimit limited{bytes, previous_.rlim_max};
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_signal_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  void (*previous_signal_)(int) = nullptr;
};

}  // namespace zcpipe::testing
