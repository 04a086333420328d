// Page-fault helpers for tests of what MADV_POPULATE_WRITE saves.
#pragma once

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace zcpipe::testing {

// Whether this kernel has MADV_POPULATE_WRITE (5.14+); without it populating is a no-op.
inline bool KernelCanPopulate() {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return false;
  const bool can = ::madvise(page, 4096, MADV_POPULATE_WRITE) == 0;
  ::munmap(page, 4096);
  return can;
}

// Why this build or kernel cannot show what populating saves in fault counts, or "" if it can.
// Sanitizers fault in shadow pages as the checked code touches memory (TSan: 512 faults writing
// 256 KiB), whatever the code's own pages do.
inline std::string WhyFaultsShowNoPopulating() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return "a sanitizer's shadow memory faults too";
#else
  return KernelCanPopulate() ? "" : "no MADV_POPULATE_WRITE before Linux 5.14";
#endif
}

// Why this build or kernel cannot back shared memory with 2 MiB pages (MADV_COLLAPSE: Linux 6.1,
// transparent huge pages built in and shmem not set to "deny"), or "" if it can.
inline std::string WhyNoHugePages() {
  if (const auto why = WhyFaultsShowNoPopulating(); !why.empty()) return why;
  utsname name{};
  int major = 0, minor = 0;
  if (::uname(&name) != 0 || std::sscanf(name.release, "%d.%d", &major, &minor) != 2 ||
      major * 100 + minor < 601) {
    return "no MADV_COLLAPSE before Linux 6.1";
  }
  std::string shmem;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/shmem_enabled"), shmem);
  if (shmem.empty()) return "no transparent huge pages in this kernel";
  if (shmem.find("[deny]") != std::string::npos) return "shmem huge pages are denied here";
  return "";
}

// Minor page faults the calling thread has taken so far.
inline std::uint64_t MinorFaults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<std::uint64_t>(usage.ru_minflt);
}

}  // namespace zcpipe::testing
