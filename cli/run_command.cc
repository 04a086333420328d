#include "run_command.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "choice_option.h"
#include "credential_options.h"
#include "diagnostics.h"
#include "dialect_options.h"
#include "exit_codes.h"
#include "interrupt_watcher.h"
#include "job_queue.h"
#include "progress_view.h"
#include "report_json.h"
#include "transform_options.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/chunker.h"

namespace zcpipe::cli {
namespace {

namespace fs = std::filesystem;

enum class StatsFormat : std::uint8_t { kNone, kJson };

// Input errors printed per job when bad rows are skipped; the rest are counted.
constexpr std::uint64_t kShownRejects = 10;

struct RunArgs {
  std::vector<std::string> inputs;
  std::string output;
  CredentialOptions key;
  TransformOptions transforms;
  JobConfig job;  // everything the options set directly
  std::string schema;
  bool isolate = false;
  std::string rejects;
  std::string trace;
  StatsFormat stats = StatsFormat::kNone;
  ProgressMode progress = ProgressMode::kAuto;
  unsigned jobs = 2;  // inputs imported at once
};

void AddOptions(CLI::App& command, RunArgs& args) {
  JobConfig& job = args.job;
  command
      .add_option("INPUT", args.inputs,
                  "CSV or JSON Lines files (- reads standard input); several run as jobs, "
                  "--jobs at a time")
      ->required();
  command
      .add_option("-o,--output", args.output,
                  "The .zcp file to write; with several inputs, a directory (INPUT-STEM.zcp)")
      ->required();
  command.add_flag("-f,--force", job.replace_output, "Replace an existing output file");
  AddCredentialOptions(command, args.key);
  args.key.confirm_passphrase = true;  // a new container

  const std::string input = "Input";
  Choices<InputFormat>(
      command.add_option("--format", job.format, "Input format (default: from the extension)"),
      {{"auto", InputFormat::kAuto}, {"csv", InputFormat::kCsv}, {"jsonl", InputFormat::kJsonl}})
      ->group(input);
  command
      .add_option("--schema", args.schema, "Column names and types: id:int64,email,amount:float64")
      ->group(input);
  AddDialectOptions(command, job, input);
  std::map<std::string, stages::Encoding> encodings;
  for (const auto encoding : stages::kEncodings)
    encodings.emplace(stages::Name(encoding), encoding);
  Choices(command.add_option("--encoding", job.encoding,
                             "The input's character encoding, converted to UTF-8 as it is read "
                             "(default utf-8; a UTF-16 byte order mark is followed)"),
          encodings)
      ->group(input);

  AddTransformOptions(command, args.transforms);

  const std::string errors = "Bad rows";
  Choices<ErrorPolicy>(
      command.add_option("--on-error", job.on_error, "fail (default): stop, publish nothing"),
      {{"fail", ErrorPolicy::kFail},
       {"skip", ErrorPolicy::kSkip},
       {"quarantine", ErrorPolicy::kQuarantine}})
      ->group(errors);
  command.add_option("--rejects", args.rejects, "JSON Lines file of rejected rows (quarantine)")
      ->group(errors);
  command
      .add_flag("--resume", job.resume,
                "Continue an interrupted import of the same input; interrupted (Ctrl-C), this run "
                "keeps its progress for the next")
      ->group(errors);

  const std::string engine = "Engine";
  auto* isolate = command.add_flag("--isolate", args.isolate, "Run the stages in worker processes")
                      ->group(engine);
  command.add_option("--workers", job.workers, "Worker processes with --isolate (0: one per core)")
      ->needs(isolate)
      ->group(engine);
  command
      .add_option("--jobs", args.jobs,
                  "Inputs imported at once (default 2); each job after a runner's first reuses "
                  "its arena and workers")
      ->check(CLI::Range(1u, 1024u))
      ->group(engine);
  Choices<Transport>(
      command.add_option("--transport", job.transport, "With --isolate (default zero-copy)"),
      {{"zero-copy", Transport::kZeroCopy}, {"copy", Transport::kCopy}})
      ->needs(isolate)
      ->group(engine);
  command.add_option("--chunk-size", job.chunk_size, "Input bytes per chunk (default 2MiB)")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->option_text("SIZE")
      ->group(engine);
  command
      .add_option("--arena", job.arena_size, "Shared memory for chunks in flight (default 256MiB)")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->option_text("SIZE")
      ->group(engine);

  const std::string observe = "Observability";
  Choices<ProgressMode>(
      command.add_option("--progress", args.progress, "auto (default): a bar on a terminal only"),
      {{"auto", ProgressMode::kAuto},
       {"bar", ProgressMode::kBar},
       {"json", ProgressMode::kJson},
       {"none", ProgressMode::kNone}})
      ->group(observe);
  command.add_option("--trace", args.trace, "Write a Chrome trace-event timeline (Perfetto)")
      ->option_text("FILE")
      ->group(observe);
  Choices<StatsFormat>(
      command.add_option("--stats", args.stats, "Print statistics as JSON on stdout at the end"),
      {{"json", StatsFormat::kJson}})
      ->group(observe);
}

// Where input `input`'s file of one kind goes: `path` itself for a single input; with several,
// `path` is a directory and the file is named after the input (its stem and `suffix`).
fs::path PerInput(const std::string& path, const fs::path& input, std::string_view suffix,
                  bool several) {
  if (path.empty() || !several) return path;
  if (!fs::is_directory(path)) {
    throw std::invalid_argument(path + ": with several inputs this must be a directory");
  }
  return fs::path(path) / (input.stem().string() + std::string(suffix));
}

// Standard input ("-") is the only input, and says its format (no extension to tell it by).
void CheckStandardInput(const RunArgs& args, InputFormat format) {
  if (std::find(args.inputs.begin(), args.inputs.end(), stages::kStandardInput) ==
      args.inputs.end()) {
    return;
  }
  if (args.inputs.size() > 1) {
    throw std::invalid_argument("- (standard input) must be the only input");
  }
  if (format == InputFormat::kAuto) {
    throw std::invalid_argument("- (standard input) needs --format csv or --format jsonl");
  }
}

// The worker processes of the jobs that run at once fit in one process (kMaxWorkerProcesses).
void CheckWorkers(const RunArgs& args, const JobConfig& job) {
  if (!args.isolate) return;
  const unsigned each =
      job.workers != 0 ? job.workers : std::max(1u, std::thread::hardware_concurrency());
  const auto at_once = std::min<std::size_t>(args.jobs, args.inputs.size());
  if (each * at_once > kMaxWorkerProcesses) {
    throw std::invalid_argument(
        "--workers " + std::to_string(each) + " with " + std::to_string(at_once) +
        " jobs at once is " + std::to_string(each * at_once) + " worker processes; at most " +
        std::to_string(kMaxWorkerProcesses) + " can run at once: lower --workers or --jobs");
  }
}

// One JobConfig per input. Throws std::invalid_argument for options that do not fit together.
std::vector<JobConfig> MakeConfigs(const CLI::App& command, const RunArgs& args,
                                   std::shared_ptr<const stages::Credential> credential) {
  JobConfig base = args.job;
  if (!args.schema.empty()) base.schema = stages::Schema::Parse(args.schema);
  auto transforms = args.transforms;
  transforms.hash_key_file_options.allow_insecure_mode = args.key.allow_insecure_key_file;
  base.transform = MakeTransform(command, transforms);
  base.placement = args.isolate ? Placement::kIsolated : Placement::kInProcess;
  base.credential = std::move(credential);
  if (base.on_error == ErrorPolicy::kQuarantine && args.rejects.empty()) {
    throw std::invalid_argument("--on-error quarantine needs --rejects FILE");
  }
  if (base.on_error != ErrorPolicy::kQuarantine && !args.rejects.empty()) {
    throw std::invalid_argument(
        "--rejects is written only with --on-error quarantine: add it, or drop --rejects");
  }
  const bool several = args.inputs.size() > 1;
  CheckStandardInput(args, base.format);
  CheckWorkers(args, base);
  std::set<std::string> stems;
  std::vector<JobConfig> configs;
  for (const auto& input : args.inputs) {
    if (several && !stems.insert(fs::path(input).stem().string()).second) {
      throw std::invalid_argument(input + ": another input has the same name: outputs would clash");
    }
    JobConfig config = base;
    config.input = input;
    config.output = PerInput(args.output, input, ".zcp", several);
    config.rejects = PerInput(args.rejects, input, ".rejects.jsonl", several);
    config.trace = PerInput(args.trace, input, ".trace.json", several);
    CheckConfig(config);  // every job's, before any starts
    configs.push_back(std::move(config));
  }
  return configs;
}

// Runs the jobs `args.jobs` at a time, cancelling them all at Ctrl-C, and returns the exit code.
int RunJobs(std::vector<JobConfig> configs, const RunArgs& args) {
  ProgressView view(args.progress, args.inputs);
  std::vector<std::atomic<std::uint64_t>> input_errors(configs.size());
  InterruptWatcher::BlockInterrupts();  // before the jobs start threads: they inherit it
  for (std::size_t slot = 0; slot < configs.size(); ++slot) {
    JobConfig& config = configs[slot];
    config.on_progress = [&view, slot](const ProgressEvent& event) { view.Update(slot, event); };
    config.on_error_event = [&view, &input_errors, slot](const ErrorEvent& error) {
      if (error.kind != ErrorKind::kInput || ++input_errors[slot] <= kShownRejects) {
        view.Error(error.message);
      }
    };
  }
  JobQueue queue(std::move(configs), args.jobs);
  InterruptWatcher watcher([&queue] { queue.Cancel(); });
  const std::vector<std::optional<Report>> reports = queue.Run();

  int exit_code = kOk;
  for (std::size_t slot = 0; slot < reports.size(); ++slot) {
    if (!reports[slot]) continue;  // not started: interrupted first
    const Report& report = *reports[slot];
    if (input_errors[slot] > kShownRejects) {
      std::cerr << "zcpipe: " << args.inputs[slot] << ": " << input_errors[slot] - kShownRejects
                << " more rejected rows not shown (--on-error quarantine --rejects FILE keeps "
                   "them all)\n";
    }
    if (args.stats == StatsFormat::kJson) std::cout << StatsJson(report, args.inputs[slot]) << '\n';
    if (exit_code == kOk && report.status == JobStatus::kFailed) {
      exit_code = report.error ? ExitCodeFor(report.error->kind) : kInternal;
    }
  }
  if (watcher.interrupted()) {
    const auto count = [&reports](auto&& predicate) {
      return std::count_if(reports.begin(), reports.end(),
                           [&](const auto& report) { return report && predicate(*report); });
    };
    const auto imported = count([](const Report& r) { return r.status == JobStatus::kSucceeded; });
    const bool resumable = count([](const Report& r) { return r.resumable; }) > 0;
    std::cerr << "zcpipe: interrupted: "
              << (imported == 0
                      ? std::string("the imports were cancelled, no output was published")
                      : std::to_string(imported) + " of " + std::to_string(reports.size()) +
                            " inputs were imported; the others published nothing")
              << (resumable ? "; the same command continues them (--resume kept their progress)"
                            : "")
              << '\n';
    return kInterrupted;
  }
  return exit_code;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto* command =
      app.add_subcommand("run", "Import CSV / JSON Lines files into encrypted .zcp containers");
  command->footer(
      "Examples:\n"
      "  zcpipe keygen -o orders.key\n"
      "  zcpipe run orders.csv -o orders.zcp --key-file orders.key\n"
      "  zcpipe run orders.csv -o orders.zcp --key-file orders.key \\\n"
      "      --schema id:int64,email,amount:float64 --filter 'amount > 0' --select id,amount \\\n"
      "      --on-error quarantine --rejects rejects.jsonl --stats json\n"
      "  zcpipe run a.csv b.jsonl -o out/ --passphrase    # two jobs, out/a.zcp, out/b.zcp\n"
      "  zcpipe run logs/*.csv -o out/ -k key --isolate --jobs 4");
  auto args = std::make_shared<RunArgs>();
  AddOptions(*command, *args);
  command->callback([command, args, &exit_code] {
    const auto credential = ReadCredential(args->key, exit_code);
    if (!credential) return;
    try {
      exit_code = RunJobs(MakeConfigs(*command, *args, credential), *args);
    } catch (const std::invalid_argument& e) {  // configuration: before any job started
      PrintError(e.what());
      exit_code = kUsage;
    }
  });
}

}  // namespace zcpipe::cli
