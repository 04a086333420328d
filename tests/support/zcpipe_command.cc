#include "zcpipe_command.h"

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace zcpipe::testing {
namespace {

std::string Command(const std::string& arguments, const std::string& directory) {
  const char* binary = std::getenv("ZCPIPE_BIN");
  if (binary == nullptr) throw std::runtime_error("ZCPIPE_BIN is not set");
  return "cd '" + directory + "' && exec " + binary + " " + arguments;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

// Runs `command` through /bin/sh, stdout and stderr captured.
CommandResult Shell(const std::string& command) {
  const auto base =
      std::filesystem::temp_directory_path() / ("zcpipe-command-" + std::to_string(::getpid()));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const int status =
      std::system(("(" + command + ") >'" + out + "' 2>'" + err + "' </dev/null").c_str());
  CommandResult result{ExitCode(status), Slurp(out), Slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return result;
}

}  // namespace

CommandResult Zcpipe(const std::string& arguments, const std::string& directory) {
  return Shell(Command(arguments, directory));
}

CommandResult ZcpipeShell(const std::string& command, const std::string& directory) {
  if (std::getenv("ZCPIPE_BIN") == nullptr) throw std::runtime_error("ZCPIPE_BIN is not set");
  return Shell("cd '" + directory + "' && " + command);
}

CommandResult ZcpipeOnTerminal(const std::string& arguments, const std::string& directory,
                               const std::string& environment) {
  return Shell("env " + environment + " script -qec \"" + Command(arguments, directory) +
               "\" /dev/null");
}

CommandResult ZcpipeAnswering(const std::string& arguments, const std::string& directory,
                              const std::vector<std::string>& answers) {
  const std::string command = Command(arguments, directory);
  int terminal = -1;
  const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  CommandResult result;
  std::size_t answered = 0;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(terminal, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO: every process holding the terminal ended
    result.out.append(buffer, static_cast<std::size_t>(n));
    // A prompt is the end of the output, no newline after it: the program waits for the answer
    // (it wrote the prompt after turning echo off, so the answer is not flushed away).
    if (result.out.ends_with(": ") && answered < answers.size()) {
      const std::string line = answers[answered++] + "\n";
      (void)!::write(terminal, line.data(), line.size());
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(terminal);
  result.exit_code = ExitCode(status);
  return result;
}

BackgroundZcpipe::BackgroundZcpipe(const std::string& arguments, const std::string& directory) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const std::string command = Command(arguments, directory);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  err_ = ::fdopen(fds[0], "r");
}

BackgroundZcpipe::~BackgroundZcpipe() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    (void)Wait();
  }
  if (err_ != nullptr) std::fclose(err_);
}

std::optional<std::string> BackgroundZcpipe::ReadErrLine() {
  std::string line;
  for (int c = std::fgetc(err_); c != EOF; c = std::fgetc(err_)) {
    if (c == '\n') return line;
    line += static_cast<char>(c);
  }
  if (line.empty()) return std::nullopt;
  return line;
}

int BackgroundZcpipe::Wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return ExitCode(status);
}

void BackgroundZcpipe::Stop() {
  if (::kill(pid_, SIGSTOP) != 0) throw std::runtime_error("SIGSTOP failed");
  // Every thread's state (the field after the name in its stat) is T, or Z if it ended.
  const auto stopped = [this] {
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task")) {
      const std::string stat = Slurp(task.path() / "stat");
      const auto name_end = stat.rfind(')');
      if (name_end == std::string::npos || stat.size() < name_end + 3) return false;
      if (stat[name_end + 2] != 'T' && stat[name_end + 2] != 'Z') return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!stopped()) {
    if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("did not stop");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void BackgroundZcpipe::Continue() { (void)::kill(pid_, SIGCONT); }

}  // namespace zcpipe::testing
