// bench_workgroup: the round trip of Workgroup::Dispatch to a worker process and back, for an
// empty job and for jobs whose payload (1 MiB, 64 MiB) the worker reads in full, with handles
// (zero-copy) and with the copy transport (the payload through the worker's socket).
// See bench/README.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>

#include "zcpipe/workgroup/worker.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::workgroup::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The worker's side: reads the whole payload (a checksum), answers with 8 bytes.
const bool kRegistered = [] {
  RegisterTask("bench.empty", [](TaskContext&) -> TaskResult { return 0; });
  RegisterTask("bench.sum", [](TaskContext& call) -> TaskResult {
    std::uint64_t sum = 0;
    const auto in = call.input();
    for (std::size_t i = 0; i + 8 <= in.size(); i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, in.data() + i, 8);
      sum += word;
    }
    std::memcpy(call.output().data(), &sum, sizeof sum);
    return sizeof sum;
  });
  return true;
}();

// Runs `count` dispatches back to back, each issued from the previous one's completion (on the
// workgroup's supervisor thread), so that no third thread competes for the two cores; returns
// the seconds they took.
double ChainedRoundTrips(Workgroup& group, const Request& request, int count) {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::atomic<int> left{count};
  bool failed = false;
  std::function<void(WorkResult)> next = [&](WorkResult result) {
    if (!result) failed = true;
    if (left.fetch_sub(1) > 1 && !failed) return group.Dispatch(request, next);
    std::lock_guard lock(mutex);
    done = true;
    finished.notify_one();
  };
  const auto since = Clock::now();
  group.Dispatch(request, next);
  std::unique_lock lock(mutex);
  finished.wait(lock, [&] { return done; });
  if (failed) throw std::runtime_error("a dispatch failed");
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void BM_Dispatch(benchmark::State& state, Transport transport) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::uint32_t block_size = bytes == 0 ? 4096 : static_cast<std::uint32_t>(bytes);
  auto pool = shm::BlockPool::Create({.block_size = block_size, .block_count = 2});
  if (!pool) return state.SkipWithError("arena");
  Workgroup group({.workers = 1,
                   .health = HealthConfig::For(HealthConfig::Mode::kDisabled),
                   .transport = transport});
  group.Launch();
  group.AttachArena(*pool);
  Request request{.task = bytes == 0 ? "bench.empty" : "bench.sum"};
  if (bytes != 0) {
    request.input = *pool->Allocate();
    request.output = *pool->Allocate();
    std::memset(pool->Resolve(request.input)->data(), 1, bytes);  // a payload that exists
  }
  const int per_iteration = bytes == 0 ? 10'000 : bytes <= (1u << 20) ? 100 : 4;
  try {
    (void)ChainedRoundTrips(group, request, per_iteration);  // warm-up: pages, caches
    for (auto _ : state) {
      state.SetIterationTime(ChainedRoundTrips(group, request, per_iteration) / per_iteration);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.counters["bytes_copied_per_call"] =
      static_cast<double>(group.stats().bytes_copied) /
      static_cast<double>(std::max<std::uint64_t>(1, group.stats().completed));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void Register() {
  for (const auto transport : {Transport::kZeroCopy, Transport::kCopy}) {
    for (const std::int64_t bytes :
         {std::int64_t{0}, std::int64_t{1} << 20, std::int64_t{64} << 20}) {
      benchmark::RegisterBenchmark((std::string("workgroup/dispatch/") +
                                    (transport == Transport::kCopy ? "copy" : "zero_copy"))
                                       .c_str(),
                                   BM_Dispatch, transport)
          ->Arg(bytes)
          ->ArgName("bytes")
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond)
          ->Iterations(bytes == (std::int64_t{64} << 20) ? 3 : 20)
          ->Repetitions(3)
          ->ReportAggregatesOnly(true);
    }
  }
}

}  // namespace
}  // namespace zcpipe::workgroup::bench

int main(int argc, char** argv) {
  // The workers are this program.
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  benchmark::Initialize(&argc, argv);
  zcpipe::workgroup::bench::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
