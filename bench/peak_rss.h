// The peak resident set size of this process (VmHWM), and resetting it between benchmark cases;
// other fields of /proc/self/status.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace zcpipe::bench {

// Resets this process's peak RSS (VmHWM) to its current RSS: "5" into /proc/self/clear_refs
// (Linux >= 4.0). Returns false if the kernel did not take it.
inline bool ResetPeakRss() {
  std::FILE* file = std::fopen("/proc/self/clear_refs", "w");
  if (file == nullptr) return false;
  const bool written = std::fputs("5", file) >= 0;
  return std::fclose(file) == 0 && written;
}

// The number of the field `key` ("VmHWM:", "Threads:") of /proc/self/status; 0 if absent.
inline std::uint64_t StatusField(std::string_view key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(key)) return std::stoull(line.substr(key.size()));  // "  123 kB"
  }
  return 0;
}

// VmHWM of /proc/self/status in bytes: the most this process had resident since it started or
// since the last ResetPeakRss. 0 if it cannot be read.
inline std::uint64_t PeakRssBytes() { return StatusField("VmHWM:") * 1024; }

}  // namespace zcpipe::bench
