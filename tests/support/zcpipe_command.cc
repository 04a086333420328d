#include "zcpipe_command.h"

#include <sys/wait.h>
#include <unistd.h>

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

CommandResult ZcpipeOnTerminal(const std::string& arguments, const std::string& directory,
                               const std::string& environment) {
  return Shell("env " + environment + " script -qec \"" + Command(arguments, directory) +
               "\" /dev/null");
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
