// The tagged events a job reports: errors (never dropped) and progress (coalesced).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace zcpipe {

// Which part of the system an error comes from.
enum class ErrorKind : std::uint8_t {
  kInput,           // a bad row or record in an input file
  kStage,           // a stage failed on good input (e.g. a batch too large for the arena)
  kWorkerCrash,     // a worker process died or stalled
  kCommunication,   // a message between processes was lost, malformed or refused
  kInitialization,  // the job could not start (bad configuration, missing file, wrong key)
  kIntegrity,       // verified data did not verify (a tampered container, a bad handle)
  // Settings the job cannot run with that only show once it started: a resume whose settings
  // differ from those of the import it would continue (JobConfig::resume).
  kConfiguration,
};

const char* Name(ErrorKind kind);

// Where the pipeline a stage sits.
enum class Stage : std::uint8_t { kRead, kParse, kTransform, kEncrypt, kWrite };
inline constexpr std::size_t kStageCount = 5;
const char* Name(Stage stage);

// One error, tagged with its job and everything that locates it. Delivered to the job's error
// listener exactly once, in the order the pipeline produced them; never coalesced or dropped.
struct ErrorEvent {
  std::uint64_t job = 0;  // the job's id: its namespace on both channels
  ErrorKind kind = ErrorKind::kStage;
  Stage stage = Stage::kRead;
  std::optional<std::uint64_t> chunk;  // chunk index, when the error is about one
  std::string file;                    // input (or output) path, when there is one
  std::uint64_t line = 0;              // 1-based input line, 0 when not about a line
  std::uint64_t byte_offset = 0;       // offset in `file`, when about a place in it
  std::string reason;                  // short and stable, e.g. "bad int64"
  std::string message;  // for people: "orders.csv:12: bad int64 in column 'id': \"x\""
  std::string raw;      // the raw row, for input errors
};

// Counts per stage.
struct StageCounts {
  std::uint64_t chunks = 0;  // chunks this stage finished
  std::uint64_t rows = 0;    // rows it emitted
  double busy_seconds = 0;   // time spent inside the stage, summed over threads
};

// A snapshot of a job. Progress events are coalesced: a listener sees the latest snapshot at
// most once per interval, never a backlog; the last event of a job has final = true and exact
// totals, with rows_in = rows_out + rows_rejected + rows_filtered.
struct ProgressEvent {
  std::uint64_t job = 0;
  std::uint64_t bytes_in = 0;     // input bytes read
  std::uint64_t bytes_total = 0;  // input size, 0 if unknown
  std::uint64_t rows_in = 0;      // rows the parsers saw (good or bad)
  std::uint64_t rows_out = 0;     // rows written to the sink
  std::uint64_t rows_rejected = 0;
  std::uint64_t rows_filtered = 0;  // rows a filter dropped on purpose
  std::uint64_t chunks_done = 0;
  StageCounts stages[kStageCount];
  double elapsed_seconds = 0;
  double bytes_per_second = 0;
  std::optional<double> eta_seconds;
  bool final = false;
  // When the snapshot was taken (steady clock), to measure delivery latency.
  std::chrono::steady_clock::time_point taken{};
};

}  // namespace zcpipe
