// Test helpers that run the real zcpipe binary (its path in ZCPIPE_BIN, set by CTest).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace zcpipe::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `zcpipe ARGUMENTS` through /bin/sh (so ARGUMENTS may hold redirections and quotes) in
// `directory`, and waits for it.
CommandResult Zcpipe(const std::string& arguments, const std::string& directory = ".");

// Runs the shell command line `command` through /bin/sh in `directory`, in which
// "$ZCPIPE_BIN" names the zcpipe binary (`cat in.csv | "$ZCPIPE_BIN" run - ...`).
CommandResult ZcpipeShell(const std::string& command, const std::string& directory);

// The same on a pseudo-terminal (util-linux `script`), with `environment` ("NAME=value ...")
// set: `out` holds what it wrote to the terminal (stdout and stderr), `err` what script said.
CommandResult ZcpipeOnTerminal(const std::string& arguments, const std::string& directory,
                               const std::string& environment = "");

// `zcpipe ARGUMENTS` on a pseudo-terminal of its own, answering each prompt it writes there (a
// line ending in ": ") with the next of `answers` and a newline, and none past the last. `out`
// holds what it wrote to the terminal.
CommandResult ZcpipeAnswering(const std::string& arguments, const std::string& directory,
                              const std::vector<std::string>& answers);

// `zcpipe ARGUMENTS` running in the background with its stderr readable line by line.
// The destructor SIGKILLs and reaps a process that is still running.
class BackgroundZcpipe {
 public:
  BackgroundZcpipe(const std::string& arguments, const std::string& directory);
  BackgroundZcpipe(const BackgroundZcpipe&) = delete;
  BackgroundZcpipe& operator=(const BackgroundZcpipe&) = delete;
  ~BackgroundZcpipe();

  pid_t pid() const { return pid_; }
  // The next line of its stderr (without the newline), nullopt at end of file.
  std::optional<std::string> ReadErrLine();
  // Waits for it to exit; its exit code, or -1 if it did not exit normally.
  int Wait();
  // Stops it (SIGSTOP) and waits until every thread of it is stopped: what it did so far can
  // then be looked at while it does nothing more, and a signal sent to it finds it there.
  // Throws if it does not stop within 30 s. Continue() sends SIGCONT.
  void Stop();
  void Continue();

 private:
  pid_t pid_ = -1;
  std::FILE* err_ = nullptr;
  bool reaped_ = false;
};

}  // namespace zcpipe::testing
