// CPU time and page faults of this process's live children: the worker processes that a
// JobResources keeps between imports, which getrusage(RUSAGE_CHILDREN) counts only once they
// are reaped.
#pragma once

#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace zcpipe::bench {

struct ChildrenUsage {
  double cpu_seconds = 0;  // to the nanosecond (clock_getcpuclockid), not in clock ticks
  std::uint64_t page_faults = 0;
};

inline ChildrenUsage LiveChildrenUsage() {
  ChildrenUsage usage;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    const std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    // After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt.
    std::istringstream fields(text.substr(close + 2));
    char state = 0;
    pid_t parent = 0;
    std::uint64_t skip = 0, minor = 0, major = 0;
    fields >> state >> parent >> skip >> skip >> skip >> skip >> skip >> minor >> skip >> major;
    if (!fields || parent != ::getpid() || state == 'Z') continue;
    clockid_t clock{};
    timespec cpu{};
    if (::clock_getcpuclockid(std::stoi(name), &clock) != 0 || ::clock_gettime(clock, &cpu) != 0) {
      continue;  // gone meanwhile
    }
    usage.cpu_seconds += static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9;
    usage.page_faults += minor + major;
  }
  return usage;
}

}  // namespace zcpipe::bench
