#include "zcpipe/shm/process.h"

#include <fcntl.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace zcpipe::shm {
namespace {

// Reads state and start time from /proc/PID/stat. Fields after the command name, which is in
// parentheses and may itself hold spaces or parentheses: " S ppid ... starttime" with the
// start time 20 fields after the state (proc(5)).
struct StatLine {
  char state;
  unsigned long long start_ticks;
};

std::optional<StatLine> ReadStat(pid_t pid) {
  char path[32];
  (void)std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buffer[1024];
  ssize_t n;
  do {
    n = ::read(fd, buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string_view text(buffer, static_cast<std::size_t>(n));
  const auto paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= text.size()) return std::nullopt;
  text.remove_prefix(paren + 2);  // now at the state letter
  StatLine line{text[0], 0};
  for (int field = 0; field < 19; ++field) {  // skip state .. itrealvalue
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    text.remove_prefix(space + 1);
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), line.start_ticks);
  if (ec != std::errc()) return std::nullopt;
  return line;
}

}  // namespace

std::optional<ProcessIdentity> ProcessIdentity::Of(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const auto stat = ReadStat(pid);
  if (!stat || stat->state == 'Z' || stat->state == 'X' || stat->state == 'x') return std::nullopt;
  return ProcessIdentity{pid, static_cast<std::uint32_t>(stat->start_ticks)};
}

ProcessIdentity ProcessIdentity::Self() {
  static std::atomic<std::uint64_t> cached{0};
  const pid_t pid = ::getpid();
  auto self = Unpack(cached.load(std::memory_order_relaxed));
  if (self.pid != pid) {  // first call, or we are a forked child
    self = Of(pid).value_or(ProcessIdentity{pid, 0});
    cached.store(self.Pack(), std::memory_order_relaxed);
  }
  return self;
}

bool ProcessIdentity::Alive() const {
  const auto now = Of(pid);
  return now.has_value() && now->start_ticks == start_ticks;
}

}  // namespace zcpipe::shm
