// A deterministic CSV sample for the stage and pipeline benchmarks: five typed columns of an
// order-like import (id, customer, amount, active, created), about 54 bytes per row.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace zcpipe::bench {

inline constexpr const char* kSampleHeader = "id,customer,amount,active,created\n";

// Appends rows [first, first + count) of the sample to `out`.
inline void AppendSampleRows(std::uint64_t first, std::uint64_t count, std::string& out) {
  char line[128];
  for (std::uint64_t i = first; i < first + count; ++i) {
    const std::uint64_t mix = i * 0x9E3779B97F4A7C15ull;
    const int n = std::snprintf(
        line, sizeof line,
        "%llu,customer-%llu,%llu.%02llu,%s,2024-%02llu-%02lluT%02llu:%02llu:%02lluZ\n",
        static_cast<unsigned long long>(i), static_cast<unsigned long long>(mix % 99991),
        static_cast<unsigned long long>((mix >> 20) % 100000),
        static_cast<unsigned long long>((mix >> 40) % 100), (mix >> 7) % 3 != 0 ? "true" : "false",
        static_cast<unsigned long long>(1 + (mix >> 11) % 12),
        static_cast<unsigned long long>(1 + (mix >> 17) % 28),
        static_cast<unsigned long long>((mix >> 23) % 24),
        static_cast<unsigned long long>((mix >> 29) % 60),
        static_cast<unsigned long long>((mix >> 35) % 60));
    out.append(line, static_cast<std::size_t>(n));
  }
}

// A sample of at least `bytes` bytes, header included.
inline std::string MakeSampleCsv(std::size_t bytes) {
  std::string out = kSampleHeader;
  out.reserve(bytes + 4096);
  for (std::uint64_t row = 0; out.size() < bytes; row += 10000) AppendSampleRows(row, 10000, out);
  return out;
}

}  // namespace zcpipe::bench
