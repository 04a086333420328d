// Google Benchmark set-up shared by the suites whose repetitions run interleaved.
#pragma once

#include <vector>

#include <benchmark/benchmark.h>

namespace zcpipe::bench {

// benchmark::Initialize with --benchmark_enable_random_interleaving=true put first: on a shared
// VM costs drift over minutes (other tenants, the host moving the vCPUs), and running the
// repetitions of all cases in random order spreads that drift over every case instead of
// favouring whichever ran in a quiet minute. A --benchmark_enable_random_interleaving=false on
// the command line still wins. Returns false, having said why, on arguments Google Benchmark
// does not know.
inline bool InitializeInterleaved(int argc, char** argv) {
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  static std::vector<char*> args;  // benchmark keeps pointers into argv
  args.assign(argv, argv + argc);
  args.insert(args.begin() + (argc > 0 ? 1 : 0), interleave);
  args.push_back(nullptr);
  int count = argc + 1;
  benchmark::Initialize(&count, args.data());
  return !benchmark::ReportUnrecognizedArguments(count, args.data());
}

}  // namespace zcpipe::bench
