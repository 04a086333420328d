// Job: one streaming import of one file, from source through stages to a sink.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "zcpipe/pipeline/events.h"
#include "zcpipe/pipeline/job_resources.h"
#include "zcpipe/shm/segment.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/encoding.h"
#include "zcpipe/stages/csv_dialect.h"
#include "zcpipe/stages/key.h"
#include "zcpipe/stages/schema.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/workgroup/transport.h"

namespace zcpipe {

enum class InputFormat : std::uint8_t { kAuto, kCsv, kJsonl };  // kAuto: by extension

// Where the parse, transform and encrypt stages run.
enum class Placement : std::uint8_t {
  kInProcess,  // on the job's oneTBB threads
  // In worker processes (a crash stays in the worker, which is replaced); the same output.
  // REQUIRES: the program calls RunIfWorker first in main() (zcpipe/workgroup/worker.h), and the
  // transform, if any, was made by ParseTransform (built in, or a kind registered with
  // RegisterTransformKind) so that workers can make it too; otherwise the job fails with an
  // initialization error.
  kIsolated,
};

// How an isolated stage's payload crosses the process boundary (the Workgroup's transport).
using workgroup::Transport;

// What happens to a bad row.
enum class ErrorPolicy : std::uint8_t {
  kFail,        // stop cleanly at the first bad row (in input order); no output is published
  kSkip,        // report it on the error channel, count it, go on
  kQuarantine,  // kSkip, and append it (line, offset, reason, raw row) to the rejects file
};

// Receives each batch of the import, in input order, on the pipeline's sink thread (one call at
// a time). The view is valid during the call only. Throwing fails the job (kStage error).
using BatchSink = std::function<void(const stages::BatchView&)>;

// Everything a job needs. The sink is either `output` + `credential` (an encrypted .zcp file,
// published by rename only when the whole import succeeded) or `batch_sink`.
struct JobConfig {
  std::filesystem::path input;  // stages::kStandardInput ("-"): standard input
  InputFormat format = InputFormat::kAuto;
  std::optional<stages::Schema> schema;  // inferred from the first chunk when absent
  // CSV dialect: each one not given is sniffed from the first chunk (stages::SniffCsvDialect;
  // the Report says what was chosen). REQUIRES: delimiter IsCsvDelimiter(*delimiter, quote),
  // quote IsCsvQuote (0: no quoting).
  std::optional<char> delimiter;
  std::optional<char> quote;
  std::optional<bool> header;  // whether the first record names the columns
  bool strict = false;         // CSV: RFC 4180, a quote inside an unquoted field is an error
  bool decimal_comma = false;  // CSV: floats are written "2,5". REQUIRES: delimiter not ','
  // The input's character encoding, converted to UTF-8 as it is read (stages::Chunker): row
  // errors, rejects and resume points give offsets in the input as it is. Bytes that are no
  // character of it fail the job (kInput). kUtf8 input that starts with a UTF-16 byte order
  // mark is read as UTF-16 (Report::encoding tells).
  stages::Encoding encoding = stages::Encoding::kUtf8;
  std::shared_ptr<const stages::Transform> transform;  // optional; a TransformChain for several

  std::filesystem::path output;
  std::shared_ptr<const stages::Credential> credential;
  bool replace_output = false;
  // With an output file, a journal (".NAME.journal" beside it) records every `journal_interval`
  // how far the import got. resume = true continues from it (same input, unchanged, same key
  // and settings), as if the earlier run had never stopped; without a usable journal, or for
  // another input or chunk size, starts over in a new container. Settings that decide what is
  // encrypted (format, delimiter, header, encoding, schema, transform recipe and hashing key,
  // on_error) must be the journal's: else the job fails with ErrorKind::kConfiguration and leaves
  // the journal and container for a resume that fits, since continuing would encrypt other data
  // under frame indices (AES-GCM nonces) the earlier run used. A transform not made by
  // ParseTransform is recorded by its type only: REQUIRES: resume it with the same parameters.
  // A job with resume = true that is cancelled keeps its journal and temporary container
  // (Report::resumable), so that the next such job continues it; without resume, or when it
  // fails, it removes them (a process that dies leaves them either way).
  bool resume = false;
  std::chrono::milliseconds journal_interval{2000};
  BatchSink batch_sink;

  ErrorPolicy on_error = ErrorPolicy::kFail;
  std::filesystem::path rejects;  // JSON Lines of rejected rows, for kQuarantine

  std::size_t chunk_size = std::size_t{2} << 20;    // input bytes per chunk
  std::size_t arena_size = std::size_t{256} << 20;  // shared memory for chunks in flight
  unsigned threads = 0;                             // threads of the job's task arena; 0: all cores
  // Concurrency of each parallel stage (0: `threads`); read and write are serial.
  unsigned parse_threads = 0, transform_threads = 0, encrypt_threads = 0;

  Placement placement = Placement::kInProcess;
  Transport transport = Transport::kZeroCopy;  // kIsolated only
  unsigned workers = 0;                        // worker processes for kIsolated; 0: `threads`
  // The arena and worker processes to reuse, and to leave for the next job (JobResources);
  // null: the job makes its own and removes them when it ends.
  std::shared_ptr<JobResources> resources;

  // Chrome trace-event JSON timeline of the run (Perfetto, chrome://tracing); empty: none.
  std::filesystem::path trace;

  std::function<void(const ErrorEvent&)> on_error_event;  // on the caller's dispatcher thread
  std::function<void(const ProgressEvent&)> on_progress;  // coalesced, latest wins
  std::chrono::milliseconds progress_interval{100};
};

// The largest JobConfig::chunk_size: a chunk's batch (up to twice its bytes) is one frame of the
// container, which holds at most stages::kMaxChunkPlaintext.
inline constexpr std::size_t kMaxChunkSize = stages::kMaxChunkPlaintext / 2;
// How many worker processes the jobs of one process can have at once: each holds one of the
// process's shm::kMaxOwnedSegments shared-memory segments; the other half is for arenas.
inline constexpr unsigned kMaxWorkerProcesses = shm::kMaxOwnedSegments / 2;

// Throws std::invalid_argument, saying what to change, for a configuration that cannot work:
// no sink or two, no input, a chunk size below 4 KiB or above kMaxChunkSize, an arena too
// small for the chunk size, more than kMaxWorkerProcesses workers, resume with an input that
// cannot be read again (standard input, a pipe, a device), a CSV delimiter that is a quote, CR,
// LF or NUL, a quote other than '"', '\'' or none, decimal_comma with the delimiter ',', an output,
// rejects file or trace that is the input or one another, a transform (hash) key that is the
// container's key (compared in constant time). Job::Start calls it; a caller starting several jobs
// calls it first for each, so that none starts.
void CheckConfig(const JobConfig& config);

enum class JobStatus : std::uint8_t { kSucceeded, kFailed, kCancelled };
const char* Name(JobStatus status);

// How a job ended. `totals` is the final progress event (exact counts).
struct Report {
  std::uint64_t job = 0;
  JobStatus status = JobStatus::kFailed;
  std::optional<ErrorEvent> error;  // what failed the job (kFailed), the first such error
  ProgressEvent totals;
  std::uint64_t bytes_copied_between_stages = 0;  // payload bytes copied across a stage boundary
  std::uint64_t arena_bytes = 0;                  // size of the job's shared-memory arena
  std::uint64_t arena_peak_bytes = 0;             // most of it ever in use at once
  std::uint64_t listener_failures = 0;            // listener calls that threw
  std::uint64_t worker_restarts = 0;              // worker processes replaced (kIsolated)
  std::optional<stages::CsvDialect> dialect;      // CSV: what was read with (given or sniffed)
  bool reused_resources = false;  // ran on the arena and workers a job before left (resources)
  bool resumable = false;  // cancelled with resume: a job with resume continues where it stopped
  // The input's encoding as read: JobConfig::encoding, or the byte order mark's (kUtf16Le or
  // kUtf16Be) for kUtf8 and kUtf16.
  stages::Encoding encoding = stages::Encoding::kUtf8;
  double progress_latency_p50_us = 0;  // snapshot taken -> listener called
  double progress_latency_p99_us = 0;
};

// A running import. Start returns at once; the job runs on threads of its own (a oneTBB flow
// graph in a task arena of `threads` threads) and reports through its listeners, each event
// tagged with id(). Several jobs may run at once.
// Thread-safety: Cancel may be called from any thread, also from a listener; Wait from one.
class Job {
 public:
  // Throws std::invalid_argument for a configuration that cannot work (CheckConfig). Everything
  // that goes wrong later (a missing file, a wrong key, bad rows) is reported, not thrown.
  [[nodiscard]] static Job Start(JobConfig config);

  Job(Job&&) noexcept;
  Job& operator=(Job&&) noexcept;
  ~Job();  // cancels and waits for a job still running

  [[nodiscard]] std::uint64_t id() const;
  // Asks the job to stop: no new chunk is read, chunks in flight are discarded, no output is
  // published. Wait then reports kCancelled (unless the job had already finished).
  void Cancel();
  // Blocks until the job ended and every event was delivered. REQUIRES: called once.
  [[nodiscard]] Report Wait();

 private:
  struct State;
  explicit Job(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// Start(config).Wait().
[[nodiscard]] Report Run(JobConfig config);

// Removes what runs writing `output` (a container, rejects file, trace or export) that are no
// longer running left beside it: their temporary files (stages::SweepTemporaries: only those of
// `output`'s own name pattern, the user's regular files, that no live process holds) and, when no
// running import holds a temporary file of `output`, the journal of an import interrupted with
// resume (which, without its temporary file, can no longer be resumed). With dry_run, only
// reports what it would remove. What `zcpipe gc PATH` runs; a run that starts over does the
// same for its own outputs.
[[nodiscard]] stages::TemporarySweep SweepLeftovers(const std::filesystem::path& output,
                                                    bool dry_run = false);

}  // namespace zcpipe
