// bench_pipeline: end-to-end CSV → encrypted .zcp imports through zcpipe::Run.
//   pipeline/<mode>/workers:<n>/mib:<size>  throughput, peak RSS, payload bytes copied between
//       stages and progress latency, by mode (in-process, isolated zero-copy, isolated copy),
//       worker count and input size (64 MiB, 512 MiB, 2 GiB generated files);
//   pipeline_vs_stages/threads:<n>  the in-process import held to the sum of the single-stage
//       passes of bench_stages measured in the same run (counter `efficiency`);
//   pipeline_paired/workers:<n>/mib:<size>  the three modes back to back in a random order per
//       repetition, and the ratios of each round (counters `isolated_over_in_process`,
//       `zero_copy_over_copy`): their medians are the ratios a drift of the host hardly moves.
// Flags (before Google Benchmark's): --modes=in_process,isolated_zero_copy,isolated_copy and
// --sizes_mib=64,512,2048. See bench/README.md.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "zcpipe/workgroup/worker.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "corpus.h"
#include "fd_io.h"
#include "forked_peer.h"
#include "input_files.h"
#include "interleaved.h"
#include "live_children.h"
#include "peak_rss.h"
#include "zcpipe/pipeline/job.h"

namespace zcpipe::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kArenaSize = std::size_t{256} << 20;

// The modes registered unless --modes says otherwise.
constexpr std::string_view kDefaultModes = "in_process,isolated_zero_copy,isolated_copy";
constexpr std::string_view kDefaultSizesMib = "64,512,2048";
constexpr long long kOnceFromMib = 2048;  // inputs this large are imported once, not 3 times

struct Mode {
  const char* name;
  Placement placement;
  Transport transport;
};
constexpr Mode kModes[] = {
    {"in_process", Placement::kInProcess, Transport::kZeroCopy},
    {"isolated_zero_copy", Placement::kIsolated, Transport::kZeroCopy},
    {"isolated_copy", Placement::kIsolated, Transport::kCopy},
};
constexpr unsigned kWorkerCounts[] = {1, 2};
// pipeline_paired: rounds per size, and worker counts: a median of more rounds moves less with
// the host's noise, and a 64 MiB round takes ~1.5 s, a 512 MiB one ~10 s, a 2 GiB one 25-35 s
// (one round: make bench's 10 minutes). 2 workers, the issues' ratio targets, at every size;
// 1 worker at 64 MiB only, for time.
constexpr int PairedRounds(long long mib) { return mib <= 64 ? 15 : mib < kOnceFromMib ? 7 : 1; }
constexpr bool PairedWorkers(unsigned workers, long long mib) { return workers == 2 || mib <= 64; }

double SecondsSince(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// What this process and its children have used so far: CPU time (user + system) and page
// faults. The children are an isolated import's workers: reaped when its job ends, or alive
// in a JobResources between imports.
struct Usage {
  double cpu_seconds = 0;
  std::uint64_t page_faults = 0;
};
Usage UsageSoFar() {
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6;
  };
  Usage total;
  for (const int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    ::getrusage(who, &usage);
    total.cpu_seconds += seconds(usage.ru_utime) + seconds(usage.ru_stime);
    total.page_faults += static_cast<std::uint64_t>(usage.ru_minflt + usage.ru_majflt);
  }
  const ChildrenUsage live = LiveChildrenUsage();
  total.cpu_seconds += live.cpu_seconds;
  total.page_faults += live.page_faults;
  return total;
}

// The job every benchmark runs: the cleanup chain, a raw-key credential, 2 MiB chunks, a 256 MiB
// arena, progress every 1 ms to a listener that does nothing.
JobConfig ImportConfig(const fs::path& input, unsigned threads) {
  static const auto chain = MakeCleanupChain();
  static const auto credential = MakeCredential();
  JobConfig config;
  config.input = input;
  config.format = InputFormat::kCsv;
  config.transform = chain;
  config.credential = credential;
  config.chunk_size = kChunkSize;
  config.arena_size = kArenaSize;
  config.threads = threads;
  config.on_progress = [](const ProgressEvent&) {};
  config.progress_interval = std::chrono::milliseconds(1);
  return config;
}

// What an import measures; over several imports (Add), times and busy seconds are summed,
// peaks and latencies their worst, rows the last import's.
struct ImportFigures {
  double seconds = 0;      // in zcpipe::Run
  double cpu_seconds = 0;  // CPU time of the job's threads and worker processes (Usage)
  std::uint64_t page_faults = 0;
  double latency_p50_us = 0, latency_p99_us = 0;
  std::uint64_t arena_peak = 0, copied = 0, rows_in = 0, rows_out = 0, peak_rss = 0;
  double busy[kStageCount] = {};

  void Add(const ImportFigures& one) {
    seconds += one.seconds;
    cpu_seconds += one.cpu_seconds;
    page_faults += one.page_faults;
    latency_p50_us = std::max(latency_p50_us, one.latency_p50_us);
    latency_p99_us = std::max(latency_p99_us, one.latency_p99_us);
    arena_peak = std::max(arena_peak, one.arena_peak);
    copied = std::max(copied, one.copied);
    peak_rss = std::max(peak_rss, one.peak_rss);
    rows_in = one.rows_in;
    rows_out = one.rows_out;
    for (std::size_t i = 0; i < kStageCount; ++i) busy[i] += one.busy[i];
  }
};

// What one import measured, sent back by the child process that ran it (through a pipe).
struct ImportMeasure : ImportFigures {
  char failure[512] = {};  // what failed; empty when the import succeeded
};
static_assert(std::is_trivially_copyable_v<ImportMeasure>);

// --cold: each timed import makes its own arena and worker processes, as the CLI's one import
// does, instead of taking those its warm-up import left (JobResources).
bool cold_imports = false;

// In the child: one untimed import of `warm_up` with `base`'s settings, then `base`, timed,
// with the peak RSS reset right before. What a program keeps after its first import (oneTBB's
// threads, malloc's arenas and, through JobResources, the arena and the worker processes) is
// then in every case's baseline alike. Outputs go to a temporary directory, removed after
// each import.
ImportMeasure MeasureImport(JobConfig base, const fs::path& warm_up) {
  ImportMeasure measure;
  const auto fail = [&measure](const std::string& what) {
    std::snprintf(measure.failure, sizeof measure.failure, "%s", what.c_str());
    return measure;
  };
  const ScopedTempDir dir;
  // Kept until the measure is taken: the last reference shuts the workers down.
  const auto resources = cold_imports ? nullptr : std::make_shared<JobResources>();
  base.resources = resources;
  JobConfig warm = base;
  warm.input = warm_up;
  warm.output = dir.path() / "warm-up.zcp";
  const Report warmed = zcpipe::Run(std::move(warm));
  std::error_code ignored;
  fs::remove(dir.path() / "warm-up.zcp", ignored);
  if (warmed.status != JobStatus::kSucceeded) {
    return fail("warm-up import " + std::string(Name(warmed.status)));
  }
  base.output = dir.path() / "out.zcp";
  if (!ResetPeakRss()) return fail("cannot reset the peak RSS (/proc/self/clear_refs)");
  const Usage used_before = UsageSoFar();
  const auto since = Clock::now();
  const Report report = zcpipe::Run(std::move(base));
  measure.seconds = SecondsSince(since);
  const Usage used = UsageSoFar();
  measure.cpu_seconds = used.cpu_seconds - used_before.cpu_seconds;
  measure.page_faults = used.page_faults - used_before.page_faults;
  measure.peak_rss = PeakRssBytes();
  if (report.status != JobStatus::kSucceeded) {
    return fail("job " + std::string(Name(report.status)) + ": " +
                (report.error ? report.error->message : std::string("no error")));
  }
  if (report.reused_resources == cold_imports) {
    return fail(cold_imports ? "the import reused resources" : "the import started cold");
  }
  measure.latency_p50_us = report.progress_latency_p50_us;
  measure.latency_p99_us = report.progress_latency_p99_us;
  measure.arena_peak = report.arena_peak_bytes;
  measure.copied = report.bytes_copied_between_stages;
  measure.rows_in = report.totals.rows_in;
  measure.rows_out = report.totals.rows_out;
  for (std::size_t i = 0; i < kStageCount; ++i) {
    measure.busy[i] = report.totals.stages[i].busy_seconds;
  }
  return measure;
}

// Runs MeasureImport in a child process forked for it, so that every import starts from the
// same memory whatever ran before it in this process, and in whichever order the interleaved
// repetitions come: glibc keeps tens of MiB in the malloc arenas of a job's threads after they
// are gone (malloc_trim does not return them), which would otherwise count in a later
// import's peak RSS. Returns what failed, or an empty string.
// REQUIRES: no other thread runs in this process (fork).
std::string ImportInChild(const JobConfig& config, const fs::path& warm_up,
                          ImportMeasure& measure) {
  if (const auto threads = StatusField("Threads:"); threads != 1) {
    return "cannot fork an import: " + std::to_string(threads) + " threads run";
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  UniqueFd from_child(fds[0]), to_parent(fds[1]);
  auto child = ForkedPeer::Start([&]() -> int {
    from_child.Reset();
    const ImportMeasure measured = MeasureImport(config, warm_up);
    return WriteAll(to_parent.get(), reinterpret_cast<const std::byte*>(&measured),
                    sizeof measured) == 0
               ? kPeerOk
               : kPeerFailed;
  });
  if (!child) return std::string("fork: ") + std::strerror(errno);
  to_parent.Reset();  // end of file when the child is gone
  const int read =
      ReadAll(from_child.get(), reinterpret_cast<std::byte*>(&measure), sizeof measure);
  const std::string joined = child->Join(std::chrono::seconds(60));
  if (!joined.empty()) return "the import's child process: " + joined;
  if (read != 0) return "the import's child process sent no result";
  return measure.failure;
}

InputFiles& Inputs() {
  static InputFiles inputs;  // removed at exit
  return inputs;
}

// What the imports of a benchmark's iterations add up to.
struct ImportTally : ImportFigures {
  // One import of `config` in a child process (ImportInChild), its time the iteration's.
  // Returns what failed, or an empty string.
  std::string Run(benchmark::State& state, const JobConfig& config) {
    constexpr std::size_t kWarmUpMib = 16;
    ImportMeasure measure;
    std::string failure;
    try {
      const auto& warm_up = Inputs().Get(kWarmUpMib, std::uint64_t{kWarmUpMib} << 20).path;
      failure = ImportInChild(config, warm_up, measure);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) return failure;
    state.SetIterationTime(measure.seconds);
    Add(measure);
    return {};
  }

  // Counters per import: bytes_per_second (of `input_bytes`), progress latency, arena and RSS
  // peaks, payload bytes copied between stages, rows, CPU time and page faults (workers'
  // included), where the threads' time went.
  void SetCounters(benchmark::State& state, std::uint64_t input_bytes) const {
    const auto iterations = static_cast<double>(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(input_bytes));
    state.counters["latency_p50_us"] = latency_p50_us;
    state.counters["latency_p99_us"] = latency_p99_us;
    const auto bytes = [](std::uint64_t value) {
      return benchmark::Counter(static_cast<double>(value), benchmark::Counter::kDefaults,
                                benchmark::Counter::kIs1024);
    };
    state.counters["arena_peak_bytes"] = bytes(arena_peak);
    state.counters["peak_rss_bytes"] = bytes(peak_rss);
    state.counters["bytes_copied_between_stages"] = static_cast<double>(copied);
    state.counters["rows_out"] = static_cast<double>(rows_out);
    state.counters["cpu_seconds"] = cpu_seconds / iterations;
    state.counters["page_faults"] = static_cast<double>(page_faults) / iterations;
    // Report::totals.stages[i].busy_seconds, summed over threads, in ms per import, and how
    // many threads were inside a stage on average.
    static constexpr const char* kBusyNames[kStageCount] = {
        "busy_read_ms", "busy_parse_ms", "busy_transform_ms", "busy_encrypt_ms", "busy_write_ms"};
    const double measured = seconds / iterations;
    double busy_total = 0;
    for (std::size_t i = 0; i < kStageCount; ++i) {
      state.counters[kBusyNames[i]] = busy[i] / iterations * 1e3;
      busy_total += busy[i] / iterations;
    }
    state.counters["busy_threads"] = busy_total / measured;
    // How many CPUs the import really got, its workers' included: below busy_threads when
    // threads inside a stage were not running (waiting for a core, a page, a lock).
    state.counters["cpu_utilization"] = cpu_seconds / seconds;
  }
};

// The benchmark's iterations, one import of `config` each; after each, `check()` says what is
// wrong with it (or returns an empty string). Returns false, the benchmark failed, on the first
// import that failed or did not pass the check.
template <class Check>
bool RunImports(benchmark::State& state, const JobConfig& config, ImportTally& tally,
                Check&& check) {
  for (auto _ : state) {
    std::string failure = tally.Run(state, config);
    if (failure.empty()) failure = check();
    if (!failure.empty()) {
      state.SkipWithError(failure.c_str());
      return false;
    }
  }
  return true;
}

// ----------------------------------------------------------------------------------------------
// pipeline_vs_stages: the efficiency of the in-process import against its stages' passes.

// One single-threaded pass of each stage over the whole corpus (corpus.h, bench_stages' code):
// the ideal the pipeline is measured against. Throws std::runtime_error when a pass fails.
struct StageSeconds {
  double chunk = 0, parse = 0, transform = 0, encrypt = 0, write = 0;
  std::uint64_t rows_out = 0;  // rows the transform kept: what the job must write
  [[nodiscard]] double sum() const { return chunk + parse + transform + encrypt + write; }
};

StageSeconds MeasureStages(const Corpus& corpus, const fs::path& dir) {
  const auto chain = MakeCleanupChain();
  const auto credential = MakeCredential();
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
  seconds.rows_out = PassTransform(corpus, *chain, block);
  seconds.transform = SecondsSince(since);

  auto writer = stages::ContainerWriter::Create(dir / "stages.zcp", *credential, {});
  if (!writer) throw std::runtime_error("encrypt: " + stages::Describe(writer.error()));
  since = Clock::now();
  PassEncrypt(corpus, writer->sealer(), block);
  seconds.encrypt = SecondsSince(since);

  since = Clock::now();
  PassWrite(corpus, *credential, dir / "write.zcp");
  seconds.write = SecondsSince(since);
  return seconds;
}

// Setup (untimed) runs the stage passes once, right before the timed import, so that the ideal
// and the measurement see the same machine state.
void BM_PipelineVsStages(benchmark::State& state) {
  const auto threads = static_cast<unsigned>(state.range(0));
  StageSeconds stage;
  const Corpus* corpus = nullptr;
  try {
    corpus = &TheCorpus();
    const ScopedTempDir stage_dir;
    stage = MeasureStages(*corpus, stage_dir.path());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  if (state.error_occurred()) return;

  ImportTally tally;
  const bool ok = RunImports(state, ImportConfig(corpus->path, threads), tally, [&] {
    return tally.rows_out == stage.rows_out
               ? std::string()
               : "job wrote " + std::to_string(tally.rows_out) + " rows, the transform pass kept " +
                     std::to_string(stage.rows_out);
  });
  if (!ok) return;
  if (tally.copied != 0) {
    return state.SkipWithError(
        ("payload bytes copied between stages: " + std::to_string(tally.copied)).c_str());
  }
  tally.SetCounters(state, corpus->csv.size());
  // efficiency = ideal / measured, ideal = (chunk + parse_csv + transform + encrypt + write) /
  // threads.
  const double measured = tally.seconds / static_cast<double>(state.iterations());
  state.counters["efficiency"] = stage.sum() / threads / measured;
  state.counters["ideal_ms"] = stage.sum() / threads * 1e3;
  state.counters["chunk_ms"] = stage.chunk * 1e3;
  state.counters["parse_ms"] = stage.parse * 1e3;
  state.counters["transform_ms"] = stage.transform * 1e3;
  state.counters["encrypt_ms"] = stage.encrypt * 1e3;
  state.counters["write_ms"] = stage.write * 1e3;
}

// ----------------------------------------------------------------------------------------------
// pipeline/<mode>/workers:<n>/mib:<size>

// The generated input of `mib` MiB (with room for its output), or nullptr having failed `state`.
const InputFile* InputOf(benchmark::State& state, std::size_t mib) {
  ReleaseCorpus();  // pipeline_vs_stages' corpus must not count in this case's RSS
  try {
    return &Inputs().Get(mib, /*also_needed=*/std::uint64_t{mib} << 20);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
}

JobConfig ModeConfig(const InputFile& input, Mode mode, unsigned workers) {
  JobConfig config = ImportConfig(input.path, workers);
  config.placement = mode.placement;
  config.transport = mode.transport;
  config.workers = workers;
  return config;
}

void BM_Import(benchmark::State& state, Mode mode) {
  const auto workers = static_cast<unsigned>(state.range(0));
  const InputFile* input = InputOf(state, static_cast<std::size_t>(state.range(1)));
  if (input == nullptr) return;
  const JobConfig config = ModeConfig(*input, mode, workers);
  ImportTally tally;
  const bool ok = RunImports(state, config, tally, [&] {
    return tally.rows_in == input->rows ? std::string()
                                        : "job read " + std::to_string(tally.rows_in) +
                                              " rows of " + std::to_string(input->rows);
  });
  if (!ok) return;
  if (mode.transport == Transport::kZeroCopy && tally.copied != 0) {
    return state.SkipWithError(
        ("payload bytes copied between stages: " + std::to_string(tally.copied)).c_str());
  }
  tally.SetCounters(state, input->bytes);
}

// ----------------------------------------------------------------------------------------------
// pipeline_paired/workers:<n>/mib:<size>

// One round: each mode's import once, in a random order, back to back (seconds apart, where the
// separate cases above run minutes apart). The round's ratios, of times and of CPU times, are
// counters; Google Benchmark's median over the repetitions is then the median of paired ratios.
void BM_Paired(benchmark::State& state) {
  const auto workers = static_cast<unsigned>(state.range(0));
  const InputFile* input = InputOf(state, static_cast<std::size_t>(state.range(1)));
  if (input == nullptr) return;
  static std::mt19937 random(std::random_device{}());
  for (auto _ : state) {
    std::vector<Mode> order(std::begin(kModes), std::end(kModes));
    std::shuffle(order.begin(), order.end(), random);
    std::map<std::string_view, double> seconds, cpu_seconds;
    for (const Mode& mode : order) {
      ImportTally tally;  // its Run adds the import's time to the iteration's
      if (const auto failure = tally.Run(state, ModeConfig(*input, mode, workers));
          !failure.empty()) {
        return state.SkipWithError((std::string(mode.name) + ": " + failure).c_str());
      }
      seconds[mode.name] = tally.seconds;
      cpu_seconds[mode.name] = tally.cpu_seconds;
    }
    state.counters["isolated_over_in_process"] =
        seconds["in_process"] / seconds["isolated_zero_copy"];
    state.counters["zero_copy_over_copy"] =
        seconds["isolated_copy"] / seconds["isolated_zero_copy"];
    state.counters["isolated_over_in_process_cpu"] =
        cpu_seconds["in_process"] / cpu_seconds["isolated_zero_copy"];
    state.counters["zero_copy_over_copy_cpu"] =
        cpu_seconds["isolated_copy"] / cpu_seconds["isolated_zero_copy"];
  }
}

// ----------------------------------------------------------------------------------------------
// Registration

std::vector<std::string> SplitList(std::string_view list) {
  std::vector<std::string> items;
  std::stringstream stream{std::string(list)};
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// Takes --<name>=<value> out of argv (before Google Benchmark sees it); `fallback` if absent.
std::string TakeFlag(int& argc, char** argv, std::string_view name, std::string_view fallback) {
  const std::string prefix = "--" + std::string(name) + "=";
  std::string value(fallback);
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with(prefix)) {
      value = argv[i] + prefix.size();
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return value;
}

// Returns false (and says why) for a mode it does not know.
bool Register(const std::vector<std::string>& modes, const std::vector<std::string>& sizes_mib) {
  benchmark::RegisterBenchmark("pipeline_vs_stages", BM_PipelineVsStages)
      ->ArgName("threads")
      ->Arg(1)
      ->Arg(2)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->Repetitions(3)
      ->ReportAggregatesOnly(true);
  for (const std::string& name : modes) {
    const auto* mode = std::find_if(std::begin(kModes), std::end(kModes),
                                    [&](const Mode& m) { return name == m.name; });
    if (mode == std::end(kModes)) {
      std::fprintf(stderr, "bench_pipeline: unknown mode %s\n", name.c_str());
      return false;
    }
    for (const std::string& mib : sizes_mib) {
      // An import of 2 GiB or more runs once (7-30 s): repeating it would take make bench past
      // its 10 minutes. One import swings by 20 % with the host, so the ratios at that size
      // come from a paired round (below), not from these.
      const long long size = std::stoll(mib);
      auto* bench = benchmark::RegisterBenchmark(("pipeline/" + name).c_str(), BM_Import, *mode)
                        ->ArgNames({"workers", "mib"})
                        ->UseManualTime()
                        ->Unit(benchmark::kMillisecond)
                        ->Iterations(1)
                        ->Repetitions(size >= kOnceFromMib ? 1 : 3)
                        ->ReportAggregatesOnly(true);
      for (const unsigned workers : kWorkerCounts) bench->Args({workers, size});
    }
  }
  if (modes.size() != std::size(kModes)) return true;  // the pairs need every mode
  for (const std::string& mib : sizes_mib) {
    const long long size = std::stoll(mib);
    for (const unsigned workers : kWorkerCounts) {
      if (!PairedWorkers(workers, size)) continue;
      benchmark::RegisterBenchmark("pipeline_paired", BM_Paired)
          ->ArgNames({"workers", "mib"})
          ->Args({workers, size})
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->Repetitions(PairedRounds(size))
          ->ReportAggregatesOnly(true);
    }
  }
  return true;
}

}  // namespace
}  // namespace zcpipe::bench

int main(int argc, char** argv) {
  // The isolated modes run this program's code in worker processes.
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  namespace zb = zcpipe::bench;
  const auto modes = zb::SplitList(zb::TakeFlag(argc, argv, "modes", zb::kDefaultModes));
  const auto sizes = zb::SplitList(zb::TakeFlag(argc, argv, "sizes_mib", zb::kDefaultSizesMib));
  zb::cold_imports = zb::TakeFlag(argc, argv, "cold", "false") != "false";
  if (!zb::InitializeInterleaved(argc, argv)) return 1;
  if (!zb::Register(modes, sizes)) return 2;
  zb::RemoveStaleInputs();  // of runs that were killed
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
