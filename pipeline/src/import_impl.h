// Import: the coordinator of one import job, and the parts it owns. Private to zcpipe::pipeline.
//
//   import.cc           Run (set-up, graph, publication, report), RunGraph (the graph's picture
//                       and wiring), the job's failure, timings and progress
//   import_setup.cc     Open*: the input, schema, arena, output, rejects file, trace, workers
//   import_nodes.cc     the graph's in-process nodes: Read, Parse, Transform, Number, Encrypt,
//                       Write; and Commit, Publish at the write stage's end
//   isolated_stages.*   IsolatedStages: parse, transform and seal in worker processes
//   chunk_arena.*       ChunkArena: the arena's blocks, its plan and gate
//   journal_committer.* JournalCommitter: the journal and its committer thread (journal.* below)
//   quarantine.*        Quarantine: the rejects file and its lines
//   resources.*         Resources: the arena and workers taken from / handed to a JobResources
//   chunk_state.h       ChunkState, ByteRange, Msg: one chunk in the graph
//   import_error.*      ImportResult, JobErrors: the import's errors
#pragma once

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "chunk_arena.h"
#include "chunk_state.h"
#include "import_error.h"
#include "isolated_stages.h"
#include "journal_committer.h"
#include "quarantine.h"
#include "resources.h"
#include "trace.h"
#include "zcpipe/pipeline/event_channel.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/jsonl.h"
#include "zcpipe/stages/redact.h"

namespace zcpipe::detail {

// Either parser behind one call; one per thread (parsers keep scratch buffers).
struct AnyParser {
  std::optional<stages::CsvParser> csv;
  std::optional<stages::JsonlParser> jsonl;
  stages::StageResult<stages::ParseOutput> Parse(const stages::Chunk& chunk,
                                                 std::span<std::byte> block) {
    return csv ? csv->Parse(chunk, block) : jsonl->Parse(chunk, block);
  }
};

// One import job, from set-up to report: opens its parts (Open*), runs the flow graph over the
// input (RunGraph, in-process nodes or IsolatedStages), then publishes its files or leaves them
// for a resume, and reports. Its errors are ImportResults until Fail, the one place where an
// error becomes the job's (published once, the first one kept for the report).
//
// Ownership: borrows the config, channel and cancel flag for the job's length; owns every part.
// Thread-safety: Run on one thread; the nodes on the graph's threads (Read, Number and Write
// serial), IsolatedStages' replies on the workgroup's; Fail, Timed and the counters written
// atomically or by one serial stage.
class Import final : public StageHost {
 public:
  Import(std::uint64_t job, const JobConfig& config, EventChannel& channel,
         const std::atomic<bool>& cancel);

  Report Run();

  // StageHost, for the parts.
  void Timed(Stage stage, Clock::time_point since, Clock::time_point until,
             const ChunkState& chunk) override;
  void Fail(ErrorEvent error) override;
  void Publish(ErrorEvent error) override { channel_.PublishError(std::move(error)); }
  [[nodiscard]] bool failed() const override { return failed_.load(); }
  [[nodiscard]] bool cancelled() const override { return cancel_.load(); }

 private:
  using Launched = std::future<ImportResult<std::unique_ptr<workgroup::Workgroup>>>;

  // Set-up (import_setup.cc). Each returns why the job cannot start.
  ImportStatus Open();
  // The chunker, reading the input from `from` on.
  ImportStatus OpenChunker(const JournalPoint& from);
  // Reads the first chunk into the first block (`room` bytes of it).
  ImportStatus ReadFirstChunk(std::size_t room);
  // CSV: the dialect the first chunk says (import_dialect.cc); reads it again if need be.
  ImportStatus SniffDialect(std::size_t room);
  // The schema the first chunk decides (header, inference), the parsers and the redactor.
  ImportStatus OpenSchema(bool csv);
  // The container writer and its journal: a new container, or the one a journal describes.
  ImportStatus OpenOutput();
  // The rejects file: new, or the temporary file `resume_temp` of the run this one continues.
  ImportStatus OpenRejects(const std::filesystem::path& resume_temp);
  // The trace's file (JobConfig::trace), filled and published at the end.
  ImportStatus OpenTrace();
  // The isolated stages, on the workers `launched` (or those Resources took).
  ImportStatus OpenWorkers(bool csv, Launched& launched);

  void RunGraph();
  // Graph nodes (import_nodes.cc).
  Msg Read(oneapi::tbb::flow_control& control);
  Msg Parse(Msg msg);
  Msg Transform(Msg msg);
  Msg Number(Msg msg);
  Msg Encrypt(Msg msg);
  void Write(const Msg& msg);
  // The write stage's rejected rows of `chunk`, as the error policy says.
  void Reject(ChunkState& chunk);
  // Records in the journal that the input up to written_to_ is in the container, durably.
  void Commit();
  // The position written_to_ with the row counts so far.
  [[nodiscard]] JournalPoint Covered() const;
  // A job cancelled with config_.resume records where its container ends and leaves the
  // container's temporary file and the journal for the next run to continue; false when it
  // is not such a job or the point cannot be recorded (then both are removed as usual).
  bool KeepForResume();
  // A job that neither failed nor was cancelled: its files are finished and made durable, then
  // published, the container last; if one cannot be, the job fails and those published before
  // it are removed again.
  void PublishFiles();

  void Timed(Stage stage, Clock::time_point since, const ChunkState& chunk) {
    Timed(stage, since, Clock::now(), chunk);
  }
  // The trace track of worker `worker`'s process, named on first use.
  TraceRecorder::Track WorkerTrack(int worker);
  ProgressEvent Snapshot(bool final) const;
  // The job's task-arena threads, and its worker processes when isolated.
  [[nodiscard]] unsigned Threads() const {
    return config_.threads != 0 ? config_.threads
                                : static_cast<unsigned>(oneapi::tbb::info::default_concurrency());
  }
  [[nodiscard]] unsigned WorkerCount() const {
    return config_.workers != 0 ? config_.workers : Threads();
  }

  const std::uint64_t job_;
  const JobConfig& config_;
  const JobErrors errors_;
  EventChannel& channel_;
  const std::atomic<bool>& cancel_;
  const Clock::time_point start_;

  // Declared in this order so that the gate goes first, then the workers' members, then the
  // workers and the arena.
  Resources resources_;
  std::unique_ptr<IsolatedStages> isolated_;  // isolated placement, once the workers are open
  std::optional<ChunkArena> arena_;

  std::optional<stages::Chunker> chunker_;
  std::optional<shm::Handle> first_block_;  // the first chunk, read during set-up
  std::optional<stages::Chunk> first_chunk_;
  std::optional<stages::CsvDialect> dialect_;  // CSV only: given or sniffed (SniffDialect)
  std::uint64_t next_seq_ = 0;
  std::optional<oneapi::tbb::enumerable_thread_specific<AnyParser>> parsers_;
  stages::Schema parsed_schema_, output_schema_;
  stages::Redactor redactor_;  // every rejected row passes it before it is echoed
  std::optional<stages::ContainerWriter> writer_;
  std::optional<Quarantine> quarantine_;         // with kQuarantine
  std::unique_ptr<JournalCommitter> committer_;  // with an output whose journal could be made
  JournalPoint written_to_;  // after the last chunk written (where this run started, before any)
  std::unique_ptr<TraceRecorder> trace_;  // only with config_.trace
  std::optional<stages::AtomicFile> trace_file_;
  std::uint64_t next_frame_ = 0;
  std::uint64_t bytes_total_ = 0;
  std::mutex traced_workers_mutex_;
  std::set<std::uint32_t> traced_workers_;  // worker pids named in the trace

  std::atomic<bool> failed_{false};
  std::mutex failure_mutex_;
  std::optional<ErrorEvent> failure_;

  // Counters, written by the serial stages (read, write) or atomically.
  std::atomic<std::uint64_t> bytes_in_{0};
  std::uint64_t rows_in_ = 0, rows_out_ = 0, rows_rejected_ = 0, rows_filtered_ = 0;
  std::uint64_t chunks_done_ = 0;
  std::atomic<std::uint64_t> stage_nanos_[kStageCount] = {};
  std::atomic<std::uint64_t> stage_chunks_[kStageCount] = {};
};

}  // namespace zcpipe::detail
