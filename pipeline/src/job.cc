#include <atomic>
#include <filesystem>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "import.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"

namespace zcpipe {
namespace {
std::atomic<std::uint64_t> g_next_job{1};

// The files a job writes must be neither its input nor one another: writing one would destroy
// the other (an output replacing its own input with replace_output, rejects over the output).
void CheckDistinctFiles(const JobConfig& config) {
  const std::pair<const char*, const std::filesystem::path*> files[] = {
      {"input", &config.input},
      {"output", &config.output},
      {"rejects file", &config.rejects},
      {"trace", &config.trace}};
  for (std::size_t i = 1; i < std::size(files); ++i) {
    if (files[i].second->empty()) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (!files[j].second->empty() && stages::SameFile(*files[i].second, *files[j].second)) {
        throw std::invalid_argument(std::string("job: the ") + files[i].first + " is the " +
                                    files[j].first + ": " + files[i].second->string());
      }
    }
  }
}
// Resume reads the input again from where the journal says: it must be a file that can be.
void CheckResumable(const JobConfig& config) {
  if (!config.resume || config.output.empty()) return;
  std::error_code error;
  const auto status = std::filesystem::status(config.input, error);
  if (config.input == stages::kStandardInput ||
      (!error && !std::filesystem::is_regular_file(status))) {
    throw std::invalid_argument(
        "job: resume needs an input that can be read again, a regular file: " +
        stages::InputName(config.input.string()) + " is not one (import it without resume)");
  }
}
// A hash key is given to whoever computes joins on the tokens; were it the container's key, they
// could decrypt every container too. Compared in constant time.
void CheckDistinctKeys(const JobConfig& config) {
  if (!config.credential || config.credential->source() != stages::KeySource::kRawKey ||
      !config.transform) {
    return;
  }
  for (const auto& step : config.transform->recipe()) {
    if (step.key && stages::SecretsEqual(step.key_bytes(), config.credential->secret())) {
      throw std::invalid_argument(
          "job: the " + step.kind +
          " key is the container's key: whoever may compute with the tokens could decrypt the "
          "container; give it a key of its own (zcpipe keygen)");
    }
  }
}
}  // namespace

void CheckConfig(const JobConfig& config) {
  const bool file_sink = !config.output.empty();
  if (config.input.empty()) throw std::invalid_argument("job: no input file");
  if (file_sink == static_cast<bool>(config.batch_sink)) {
    throw std::invalid_argument("job: give exactly one sink: an output file or a batch sink");
  }
  if (file_sink && !config.credential) throw std::invalid_argument("job: output needs a key");
  if (config.chunk_size < 4096) throw std::invalid_argument("job: chunk size below 4 KiB");
  if (config.chunk_size > kMaxChunkSize) {
    throw std::invalid_argument("job: chunk size above " + std::to_string(kMaxChunkSize >> 20) +
                                " MiB (a chunk's batch must fit one container frame)");
  }
  if (config.arena_size < 8 * config.chunk_size) {
    throw std::invalid_argument("job: the arena must hold at least 8 chunk sizes (" +
                                std::to_string(8 * config.chunk_size) + " bytes)");
  }
  if (config.placement == Placement::kIsolated && config.workers > kMaxWorkerProcesses) {
    throw std::invalid_argument("job: at most " + std::to_string(kMaxWorkerProcesses) +
                                " worker processes can run at once");
  }
  if (config.on_error == ErrorPolicy::kQuarantine && config.rejects.empty()) {
    throw std::invalid_argument("job: quarantine needs a rejects file");
  }
  if (config.quote && !stages::IsCsvQuote(*config.quote)) {
    throw std::invalid_argument("job: the CSV quote can be '\"', '\'' or none");
  }
  if (config.delimiter && !stages::IsCsvDelimiter(*config.delimiter, config.quote.value_or('"'))) {
    throw std::invalid_argument("job: the CSV delimiter cannot be a quote, CR, LF or NUL");
  }
  if (config.decimal_comma && config.delimiter == ',') {
    throw std::invalid_argument("job: a decimal comma needs a CSV delimiter other than ','");
  }
  CheckResumable(config);
  CheckDistinctFiles(config);
  CheckDistinctKeys(config);
}

struct Job::State {
  std::uint64_t id = 0;
  JobConfig config;
  std::atomic<bool> cancel{false};
  std::thread thread;
  Report report;
};

Job::Job(std::shared_ptr<State> state) : state_(std::move(state)) {}
Job::Job(Job&&) noexcept = default;
Job& Job::operator=(Job&&) noexcept = default;

Job::~Job() {
  if (state_ && state_->thread.joinable()) {
    Cancel();
    state_->thread.join();
  }
}

Job Job::Start(JobConfig config) {
  CheckConfig(config);
  auto state = std::make_shared<State>();
  state->id = g_next_job.fetch_add(1);
  state->config = std::move(config);
  state->thread = std::thread([state] {
    EventChannel channel({state->config.on_error_event, state->config.on_progress},
                         state->config.progress_interval);
    state->report = detail::RunImport(state->id, state->config, channel, state->cancel);
  });
  return Job(std::move(state));
}

std::uint64_t Job::id() const { return state_->id; }

void Job::Cancel() { state_->cancel.store(true); }

Report Job::Wait() {
  if (state_->thread.joinable()) state_->thread.join();
  return state_->report;
}

Report Run(JobConfig config) { return Job::Start(std::move(config)).Wait(); }

}  // namespace zcpipe
