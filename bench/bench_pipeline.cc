// bench_pipeline: end-to-end MB/s of a CSV → encrypted .zcp import through zcpipe::Run at 1 and
// 2 threads, over one generated CSV (256 MiB by default; ZCPIPE_BENCH_MIB changes it), with the
// single-stage passes of bench_stages measured in the same run as the "ideal" the pipeline is
// held to (counter `efficiency`). See bench/README.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "corpus.h"
#include "zcpipe/pipeline/job.h"

namespace zcpipe::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kArenaSize = std::size_t{256} << 20;

double SecondsSince(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU time (user + system) of every thread of this process so far.
double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// One single-threaded pass of each stage over the whole corpus (corpus.h, bench_stages' code):
// the ideal the pipeline is measured against. Throws std::runtime_error when a pass fails.
struct StageSeconds {
  double chunk = 0, parse = 0, transform = 0, encrypt = 0, write = 0;
  std::uint64_t rows_out = 0;  // rows the transform kept: what the job must write
  [[nodiscard]] double sum() const { return chunk + parse + transform + encrypt + write; }
};

StageSeconds MeasureStages(const Corpus& corpus, const stages::Transform& chain,
                           const stages::Credential& credential, const fs::path& dir) {
  StageSeconds seconds;
  Block block(kBlockSize);
  auto since = Clock::now();
  PassChunk(corpus, block);
  seconds.chunk = SecondsSince(since);

  stages::CsvParser parser = *corpus.parser;
  since = Clock::now();
  (void)PassParse(corpus, parser, block);
  seconds.parse = SecondsSince(since);

  since = Clock::now();
  seconds.rows_out = PassTransform(corpus, chain, block);
  seconds.transform = SecondsSince(since);

  auto writer = stages::ContainerWriter::Create(dir / "stages.zcp", credential, {});
  if (!writer) throw std::runtime_error("encrypt: " + stages::Describe(writer.error()));
  since = Clock::now();
  PassEncrypt(corpus, writer->sealer(), block);
  seconds.encrypt = SecondsSince(since);

  since = Clock::now();
  PassWrite(corpus, credential, dir / "write.zcp");
  seconds.write = SecondsSince(since);
  return seconds;
}

// The import, CSV → .zcp, with the chain and a raw-key credential, at state.range(0) threads.
// Setup (untimed) runs the stage passes once, right before the timed import, so that the ideal
// and the measurement see the same machine state.
void BM_Pipeline(benchmark::State& state) {
  const auto threads = static_cast<unsigned>(state.range(0));
  const Corpus* corpus_or_null = nullptr;
  try {
    corpus_or_null = &TheCorpus();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const Corpus& corpus = *corpus_or_null;
  const auto chain = MakeCleanupChain();
  const auto credential = MakeCredential();

  StageSeconds stage;
  fs::path stage_dir;
  try {
    stage_dir = MakeTempDir();
    stage = MeasureStages(corpus, *chain, *credential, stage_dir);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  if (!stage_dir.empty()) {
    std::error_code ignored;
    fs::remove_all(stage_dir, ignored);
  }
  if (state.error_occurred()) return;

  double run_seconds = 0;      // in zcpipe::Run, summed over iterations
  double run_cpu_seconds = 0;  // CPU time of the process meanwhile (only the job's threads run)
  double latency_p50_us = 0, latency_p99_us = 0;
  std::uint64_t arena_peak = 0, copied = 0, rows_out = 0;
  double busy[kStageCount] = {};
  for (auto _ : state) {
    fs::path dir;
    try {
      dir = MakeTempDir();
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
    JobConfig config;
    config.input = corpus.path;
    config.format = InputFormat::kCsv;
    config.transform = chain;
    config.output = dir / "out.zcp";
    config.credential = credential;
    config.chunk_size = kChunkSize;
    config.arena_size = kArenaSize;
    config.threads = threads;
    config.on_progress = [](const ProgressEvent&) {};
    config.progress_interval = std::chrono::milliseconds(1);

    const double cpu_since = ProcessCpuSeconds();
    const auto since = Clock::now();
    const Report report = Run(std::move(config));
    run_seconds += SecondsSince(since);
    run_cpu_seconds += ProcessCpuSeconds() - cpu_since;

    state.PauseTiming();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    state.ResumeTiming();
    if (report.status != JobStatus::kSucceeded) {
      state.SkipWithError(("job " + std::string(Name(report.status)) + ": " +
                           (report.error ? report.error->message : std::string("no error")))
                              .c_str());
      break;
    }
    if (report.totals.rows_out != stage.rows_out) {
      state.SkipWithError(("job wrote " + std::to_string(report.totals.rows_out) +
                           " rows, the transform pass kept " + std::to_string(stage.rows_out))
                              .c_str());
      break;
    }
    // The worst iteration's numbers (Iterations(1): the only one's).
    latency_p50_us = std::max(latency_p50_us, report.progress_latency_p50_us);
    latency_p99_us = std::max(latency_p99_us, report.progress_latency_p99_us);
    arena_peak = std::max(arena_peak, report.arena_peak_bytes);
    copied = std::max(copied, report.bytes_copied_between_stages);
    rows_out = report.totals.rows_out;
    for (std::size_t i = 0; i < kStageCount; ++i) busy[i] += report.totals.stages[i].busy_seconds;
  }
  if (state.error_occurred()) return;
  if (copied != 0) {
    state.SkipWithError(("payload bytes copied between stages: " + std::to_string(copied)).c_str());
    return;
  }

  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(corpus.csv.size()));
  // efficiency = ideal / measured,
  // ideal = (chunk + parse_csv + transform + encrypt + write) / threads.
  const double measured = run_seconds / iterations;
  state.counters["efficiency"] = stage.sum() / threads / measured;
  state.counters["ideal_ms"] = stage.sum() / threads * 1e3;
  state.counters["chunk_ms"] = stage.chunk * 1e3;
  state.counters["parse_ms"] = stage.parse * 1e3;
  state.counters["transform_ms"] = stage.transform * 1e3;
  state.counters["encrypt_ms"] = stage.encrypt * 1e3;
  state.counters["write_ms"] = stage.write * 1e3;
  state.counters["latency_p50_us"] = latency_p50_us;
  state.counters["latency_p99_us"] = latency_p99_us;
  state.counters["arena_peak_bytes"] = benchmark::Counter(
      static_cast<double>(arena_peak), benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["bytes_copied_between_stages"] = static_cast<double>(copied);
  state.counters["rows_out"] = static_cast<double>(rows_out);
  // Where the threads' time went (Report::totals.stages[i].busy_seconds, summed over threads),
  // in ms per import, and how many threads were busy on average.
  static constexpr const char* kBusyNames[kStageCount] = {
      "busy_read_ms", "busy_parse_ms", "busy_transform_ms", "busy_encrypt_ms", "busy_write_ms"};
  double busy_total = 0;
  for (std::size_t i = 0; i < kStageCount; ++i) {
    state.counters[kBusyNames[i]] = busy[i] / iterations * 1e3;
    busy_total += busy[i] / iterations;
  }
  state.counters["busy_threads"] = busy_total / measured;
  // How many CPUs the import really got: below busy_threads when threads inside a stage were
  // not running (waiting for a core, a page, a lock).
  state.counters["cpu_utilization"] = run_cpu_seconds / run_seconds;
}

void Register() {
  benchmark::RegisterBenchmark("pipeline/csv_to_zcp", BM_Pipeline)
      ->ArgName("threads")
      ->Arg(1)
      ->Arg(2)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->Repetitions(3)
      ->ReportAggregatesOnly(true);
}

}  // namespace
}  // namespace zcpipe::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  zcpipe::bench::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
