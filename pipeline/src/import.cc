#include "import.h"

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include "arena_error.h"
#include "block_gate.h"
#include "frame_ledger.h"
#include "import_stages.h"
#include "job_resources.h"
#include "journal.h"
#include "output_error_kind.h"
#include "rejects_file.h"
#include "rejects_line.h"
#include "settings_digest.h"
#include "trace.h"
#include "worker_results.h"
#include "zcpipe/shm/block_pool.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/jsonl.h"
#include "zcpipe/stages/redact.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::detail {
namespace {

namespace flow = oneapi::tbb::flow;
using Clock = std::chrono::steady_clock;
using stages::kChunkOverhead;
using stages::kChunkTagSize;
using stages::kFrameHeaderSize;

// Part of a chunk for a worker to parse: bytes [begin, end) of it, starting on `line`;
// `suspect` while narrowing down a poison chunk (one attempt each). With a transform whose
// output needs more than one block, the rows of the batch parsed from it from `first_row`
// (on line `first_row_line`) on: ProcessReply::next_row.
struct ByteRange {
  std::uint64_t begin = 0, end = 0, line = 1;
  bool suspect = false;
  std::uint32_t first_row = 0;
  std::uint64_t first_row_line = 0;
};

// One chunk on its way through the graph. Only handles into the arena travel; the payload
// stays where the read stage put it, and each stage writes its output into a fresh block.
struct ChunkState {
  std::uint64_t seq = 0;    // position in the graph's stream (sequencers order by it)
  shm::Handle input;        // the chunk's bytes; invalid for a message with no data
  std::uint64_t index = 0;  // the chunk's index in the input
  std::uint64_t first_line = 1;
  std::uint64_t first_byte = 0;
  JournalPoint next;                 // where the input continues after this chunk
  std::vector<shm::Handle> batches;  // after parse, then after transform; frames after encrypt
  // Isolated: what Write uses of batches[i], taken out of the arena and checked: the batch, or
  // with an output the authentic frame (worker_results.h). Workers can still write the arena.
  std::vector<std::vector<std::byte>> taken;
  std::uint64_t first_frame = 0;  // container index of batches[0]
  stages::InputErrors rejected;
  std::uint64_t rows_in = 0, rows_out = 0, rows_filtered = 0;
  std::optional<ErrorEvent> failure;  // a stage failed on this chunk: the job fails
  Clock::time_point stage_start;      // isolated stages: when the chunk's current stage began
  std::deque<ByteRange> todo;         // isolated stages: what is left to parse
  // Isolated stages with sealing: frames[i] is batches[i] sealed by the worker that made it
  // (in the same block), if the chunk's first frame index was known by then (FrameLedger).
  struct Frame {
    shm::Handle handle;  // invalid: not sealed
    std::uint64_t index = 0;
    std::vector<std::byte> bytes;  // taken out of the arena and authenticated under `index`
  };
  std::vector<Frame> frames;
  std::chrono::nanoseconds sealing{0};  // how long the workers took to seal them
  int worker = -1;                      // isolated stages: the worker that served it last
  int member = -1;                      // isolated stages: and the member (members_ index)
  // Since when the arena has refused this chunk a block while it was the head (BlockGate).
  std::optional<std::chrono::steady_clock::time_point> refused_since;
};
using Msg = std::shared_ptr<ChunkState>;

// Either parser behind one call; one per thread (parsers keep scratch buffers).
struct AnyParser {
  std::optional<stages::CsvParser> csv;
  std::optional<stages::JsonlParser> jsonl;
  stages::StageResult<stages::ParseOutput> Parse(const stages::Chunk& chunk,
                                                 std::span<std::byte> block) {
    return csv ? csv->Parse(chunk, block) : jsonl->Parse(chunk, block);
  }
};

// A block for `chunks` chunks' worth of bytes and a frame's overhead, in whole pages.
std::uint32_t BlockSize(std::uint64_t chunk_size, std::uint64_t chunks) {
  return static_cast<std::uint32_t>(
      (chunks * chunk_size + kFrameHeaderSize + kChunkTagSize + 4095) / 4096 * 4096);
}

// Whether `part` lies inside `block`.
bool Within(std::span<const std::byte> part, std::span<const std::byte> block) {
  const std::less_equal<const std::byte*> le;
  return le(block.data(), part.data()) &&
         le(part.data() + part.size(), block.data() + block.size());
}

InputFormat Resolve(const JobConfig& config) {
  if (config.format != InputFormat::kAuto) return config.format;
  const auto ext = config.input.extension().string();
  return ext == ".jsonl" || ext == ".ndjson" || ext == ".json" ? InputFormat::kJsonl
                                                               : InputFormat::kCsv;
}

// Everything the graph's nodes share for one job.
class Import {
 public:
  Import(std::uint64_t job, const JobConfig& config, EventChannel& channel,
         const std::atomic<bool>& cancel)
      : job_(job),
        config_(config),
        input_name_(stages::InputName(config.input.string())),
        channel_(channel),
        cancel_(cancel),
        start_(Clock::now()) {}

  Report Run();

 private:
  // Set-up: returns false (after recording the error) when the job cannot start.
  bool Open();
  // The container writer and its journal: a new container, or the one a journal describes.
  bool OpenOutput();
  // The rejects file (quarantine): new, or the temporary file `resume_temp` of the run this one
  // continues, cut back to what written_to_ covers.
  bool OpenRejects(const std::filesystem::path& resume_temp);
  // The trace's file (JobConfig::trace), filled and published at the end.
  bool OpenTrace();
  // The chunker, reading the input from `from` on.
  bool OpenChunker(const JournalPoint& from);
  void RunGraph();
  void Fail(ErrorEvent error);
  ErrorEvent MakeError(ErrorKind kind, Stage stage, std::string reason, std::string message) const;
  ErrorEvent FromInput(const stages::InputError& error, std::uint64_t chunk) const;
  // A block for a stage to write into for the chunk at stream position `seq` (`chunk`, once it
  // exists), as the BlockGate allows; while refused, the calling task is suspended (its thread
  // does other work). Fails the job with "arena exhausted" when MayWait says so.
  std::optional<shm::Handle> AllocateBlock(Stage stage, std::uint64_t seq,
                                           ChunkState* chunk = nullptr);
  // Whether a chunk the gate refused a block should wait for one: not once the job failed or
  // was cancelled, nor when it is the head and none came in 10 s, or could not come (it is
  // alone in flight): then the job fails "arena exhausted", naming the chunk.
  bool MayWait(Stage stage, std::uint64_t seq, ChunkState* chunk,
               std::optional<Clock::time_point>& since);
  // REQUIRES: (part of) a block this job holds. The pool checks it against private generations
  // no worker can write (shm::BlockPool): a failure is a bug here, not a worker's doing. What a
  // worker wrote in a block is read only through worker_results.h.
  std::span<std::byte> Bytes(const shm::Handle& handle) const {
    if (auto bytes = pool_->Resolve(handle)) return *bytes;
    std::abort();
  }
  // The part of a block a batch may use: room for the frame header before it and the tag after,
  // so that encryption can seal it in place. Isolated workers get as much (batch_room_).
  std::span<std::byte> BatchRoom(const shm::Handle& block) const {
    return Bytes(block).subspan(kFrameHeaderSize, batch_room_);
  }
  shm::Handle HandleOf(const shm::Handle& block, std::span<const std::byte> part) const {
    const auto offset = static_cast<std::uint32_t>(part.data() - Bytes(block).data());
    return block.Sub(offset, static_cast<std::uint32_t>(part.size()));
  }
  void Release(const shm::Handle& handle) { gate_->Release(handle); }
  void ReleaseAll(ChunkState& chunk);
  // Adds the time since `since` to the stage's busy time (and to the trace, with `chunk`).
  void Timed(Stage stage, Clock::time_point since, const ChunkState& chunk) {
    Timed(stage, since, Clock::now(), chunk);
  }
  void Timed(Stage stage, Clock::time_point since, Clock::time_point until,
             const ChunkState& chunk);
  // The trace track of worker `worker`'s process, named on first use.
  TraceRecorder::Track WorkerTrack(int worker);
  ProgressEvent Snapshot(bool final) const;
  // Where the container ends now: written_to_ with the writer's frames and bytes and the counts.
  JournalPoint PointNow() const;
  // Records in the journal that the input up to written_to_ is in the container, durably.
  // Hands the point to the committer thread, which fsyncs the container and then appends the
  // point to the journal, so that the serial sink never waits for the disk mid-run.
  void Commit();
  // A job cancelled with config_.resume records where its container ends and leaves the
  // container's temporary file and the journal for the next run to continue; false when it
  // is not such a job or the point cannot be recorded (then both are removed as usual).
  bool KeepForResume();
  void RunCommitter();
  void StopCommitter();  // drops a point not yet committed; joins
  // A job that neither failed nor was cancelled: its files are finished and made durable, then
  // published, the container last; if one cannot be, the job fails and those published before
  // it are removed again.
  void Publish();
  // Fails the job: writing `path` failed with `error`.
  void FailWrite(const std::filesystem::path& path, const stages::ContainerError& error);

  // Isolated placement: the workgroup, launched (LaunchWorkers: what failed, or empty) while
  // Open goes on, then the arena and one import-stages member per worker, and the calls.
  std::string LaunchWorkers();
  bool OpenWorkers(bool csv, std::future<std::string>& launched);
  // With config_.resources free: holds them, and takes their arena and workers if they were
  // made with pool_options_ and this job's worker settings, else drops them (this job's own
  // take their place at its end).
  void TakeResources();
  // Whether the job leaves its arena and workers in config_.resources: it holds them, it
  // succeeded, and no block is in use (nothing of it can still be written).
  [[nodiscard]] bool Keeps(bool succeeded) const {
    return resources_lock_.owns_lock() && succeeded && pool_ && pool_->blocks_in_use() == 0;
  }
  // REQUIRES: resources_lock_ held. Leaves the arena and workers (without this job's members)
  // in config_.resources if `keep`, and lets the resources go.
  void HandBack(bool keep);
  // The job's task-arena threads, and its worker processes when isolated.
  [[nodiscard]] unsigned Threads() const {
    return config_.threads != 0 ? config_.threads
                                : static_cast<unsigned>(oneapi::tbb::info::default_concurrency());
  }
  [[nodiscard]] unsigned WorkerCount() const {
    return config_.workers != 0 ? config_.workers : Threads();
  }
  using Gateway = oneapi::tbb::flow::async_node<Msg, Msg>::gateway_type;
  void ProcessIsolated(Msg msg, Gateway& gateway);
  // Runs the chunk's byte ranges still to do through workers, one at a time, then passes the
  // chunk on.
  void ProcessNext(Msg msg, Gateway& gateway);
  // A range that killed its workers: its only row is rejected as poison, or it is halved.
  void Isolate(ChunkState& chunk, const ByteRange& range, const std::string& why);
  // The chunk's input block from `offset` to the block's end, where its FrameLedger slot is.
  [[nodiscard]] shm::Handle InputTail(const ChunkState& chunk, std::uint64_t offset) const {
    return {chunk.input.segment, chunk.input.block, chunk.input.generation,
            static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(block_size_ - offset)};
  }
  // Whether a worker began sealing a frame in `block` (kSealingMark), in any attempt.
  [[nodiscard]] bool SealingBegan(const shm::Handle& block) const {
    std::uint64_t mark = 0;
    std::memcpy(&mark, Bytes(block).data(), 8);
    return mark == kSealingMark;
  }
  void SealIsolated(Msg msg, Gateway& gateway);
  // Runs `request` on the member whose worker has the least work queued (`cost`: an estimate in
  // parse-equivalent bytes, or on member `prefer` if not -1), then `done` with the result,
  // that worker's index and the member's.
  void Call(workgroup::Request request, std::uint64_t cost,
            std::function<void(workgroup::WorkResult, int worker, int member)> done,
            int prefer = -1);

  Msg Read(oneapi::tbb::flow_control& control);
  Msg Parse(Msg msg);
  Msg Transform(Msg msg);
  Msg Number(Msg msg);
  Msg Encrypt(Msg msg);
  void Write(const Msg& msg);

  const std::uint64_t job_;
  const JobConfig& config_;
  const std::string input_name_;  // how messages name the input (stages::InputName)
  EventChannel& channel_;
  const std::atomic<bool>& cancel_;
  const Clock::time_point start_;

  shm::PoolOptions pool_options_;
  std::unique_ptr<shm::BlockPool> pool_;
  std::unique_ptr<BlockGate> gate_;  // every block taken from pool_, and given back, passes it
  std::optional<stages::Chunker> chunker_;
  std::optional<shm::Handle> first_block_;  // the first chunk, read during set-up
  std::optional<stages::Chunk> first_chunk_;
  std::uint64_t next_seq_ = 0;
  std::optional<oneapi::tbb::enumerable_thread_specific<AnyParser>> parsers_;
  std::optional<stages::ContainerWriter> writer_;
  std::optional<Journal> journal_;
  JournalPoint written_to_;  // after the last chunk written (where this run started, before any)
  std::thread committer_;
  std::mutex commit_mutex_;
  std::condition_variable commit_wanted_;
  std::optional<JournalPoint> commit_next_;  // guarded by commit_mutex_
  bool commit_stop_ = false;                 // guarded by commit_mutex_
  bool journal_broken_ = false;              // guarded by commit_mutex_; read after the join
  std::unique_ptr<TraceRecorder> trace_;     // only with config_.trace
  std::optional<stages::AtomicFile> trace_file_;
  Clock::time_point last_commit_;
  std::optional<RejectsFile> rejects_;  // with kQuarantine
  stages::Schema parsed_schema_, output_schema_;
  stages::Redactor redactor_;  // every rejected row passes it before it is echoed
  std::uint64_t next_frame_ = 0;
  std::uint64_t bytes_total_ = 0;
  std::size_t in_flight_ = 1;
  // The most bytes a chunk (a record longer than chunk_size stretches it) and a batch may take,
  // whatever the placement: both then cut the same chunks and batches, hence the same frames.
  std::uint32_t chunk_room_ = 0, batch_room_ = 0;
  std::uint32_t block_size_ = 0;
  // Isolated with sealing and the zero-copy transport: each chunk's first frame index, for its
  // worker to seal with; the slot is the last 8 bytes of the chunk's input block.
  std::optional<FrameLedger> ledger_;
  TakenBuffers taken_buffers_;  // isolated: for ChunkState::taken

  std::unique_ptr<workgroup::Workgroup> workers_;  // after pool_: shut down before the arena goes
  // With config_.resources: held while this job uses them (TakeResources, HandBack).
  std::unique_lock<std::mutex> resources_lock_;
  bool arena_attached_ = false;               // workers_ already resolve pool_'s blocks
  bool reused_resources_ = false;             // pool_ (and workers_) came from config_.resources
  workgroup::WorkgroupStats workers_before_;  // workers_->stats() when the job took them
  std::mutex traced_workers_mutex_;
  std::set<std::uint32_t> traced_workers_;  // worker pids named in the trace
  std::vector<workgroup::MemberProxy> members_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> member_load_;  // queued cost per member

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

ErrorEvent Import::MakeError(ErrorKind kind, Stage stage, std::string reason,
                             std::string message) const {
  ErrorEvent error;
  error.job = job_;
  error.kind = kind;
  error.stage = stage;
  error.file = input_name_;
  error.reason = std::move(reason);
  // Every message names a file of the job: the input, before one that names none.
  const auto names = [&message](const std::filesystem::path& path) {
    return !path.empty() && message.find(path.string()) != std::string::npos;
  };
  if (!names(error.file) && !names(config_.output) && !names(config_.rejects) &&
      !names(config_.trace)) {
    message = error.file + ": " + message;
  }
  error.message = std::move(message);
  return error;
}

ErrorEvent Import::FromInput(const stages::InputError& input, std::uint64_t chunk) const {
  ErrorEvent error =
      MakeError(ErrorKind::kInput, Stage::kParse, stages::Name(input.reason),
                input_name_ + ":" + std::to_string(input.line) + ": " + input.Describe());
  error.chunk = chunk;
  error.line = input.line;
  error.byte_offset = input.byte_offset;
  error.raw = input.raw;
  return error;
}

void Import::Fail(ErrorEvent error) {
  channel_.PublishError(error);
  std::lock_guard lock(failure_mutex_);
  if (!failure_) failure_ = std::move(error);
  failed_.store(true);
  if (gate_) gate_->WakeAll();  // chunks waiting for a block end now
}

std::optional<shm::Handle> Import::AllocateBlock(Stage stage, std::uint64_t seq,
                                                 ChunkState* chunk) {
  // Isolated, workers write only the blocks of parse and seal results, and the coordinator
  // reads input into the others. From opposite ends of the arena, each worker maps (faults
  // into its own page tables) the few result blocks, not every block the job cycles through.
  const auto end = workers_ && stage != Stage::kRead ? shm::BlockEnd::kHigh : shm::BlockEnd::kLow;
  std::optional<Clock::time_point> since;
  for (;;) {
    std::uint64_t epoch = 0;
    shm::Error refused{shm::Errc::kExhausted};
    if (auto block = gate_->TryTake(seq, end, &epoch, &refused)) return block;
    if (IsOutOfSharedMemory(refused)) {  // no block in use frees memory: waiting would not help
      Fail(MakeError(ErrorKind::kStage, stage, "out of shared memory",
                     ArenaError("reserve an arena block", pool_->block_size(), refused)));
      return std::nullopt;
    }
    if (!MayWait(stage, seq, chunk, chunk != nullptr ? chunk->refused_since : since)) break;
    oneapi::tbb::task::suspend([&](oneapi::tbb::task::suspend_point tag) {
      gate_->Park(seq, epoch, [tag] { oneapi::tbb::task::resume(tag); });
    });
  }
  return std::nullopt;
}

bool Import::MayWait(Stage stage, std::uint64_t seq, ChunkState* chunk,
                     std::optional<Clock::time_point>& since) {
  if (failed_.load() || cancel_.load()) return false;
  if (!gate_->IsHead(seq)) return true;  // the head goes on, and gives its blocks back, first
  // A lone chunk in flight holds every block in use: while it parses or transforms (one
  // request at a time, unlike its seals) it would wait for itself.
  const bool alone = chunk != nullptr && in_flight_ == 1 && stage != Stage::kEncrypt;
  const auto now = Clock::now();
  if (!since) since = now;
  if (!alone && now - *since < std::chrono::seconds(10)) return true;
  const std::string who = chunk == nullptr ? std::string("the job")
                                           : input_name_ + ":" + std::to_string(chunk->first_line) +
                                                 ": chunk " + std::to_string(chunk->index);
  auto error =
      MakeError(ErrorKind::kStage, stage, "arena exhausted",
                who + " needs another arena block and none is free" + (alone ? "" : " for 10 s") +
                    " (" + std::to_string(pool_->block_count()) + " blocks of " +
                    std::to_string(pool_->block_size()) + " bytes, " + std::to_string(in_flight_) +
                    " chunk(s) in flight): raise the arena size or lower the chunk size");
  if (chunk != nullptr) {
    error.chunk = chunk->index;
    error.line = chunk->first_line;
    error.byte_offset = chunk->first_byte;
  }
  Fail(std::move(error));
  return false;
}

void Import::ReleaseAll(ChunkState& chunk) {
  if (chunk.input.valid()) Release(chunk.input);
  for (const auto& batch : chunk.batches) Release(batch);
  for (auto& bytes : chunk.taken) taken_buffers_.Give(std::move(bytes));
  chunk.input = {};
  chunk.batches.clear();
  chunk.taken.clear();
}

void Import::Timed(Stage stage, Clock::time_point since, Clock::time_point now,
                   const ChunkState& chunk) {
  const auto i = static_cast<std::size_t>(stage);
  stage_nanos_[i].fetch_add(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - since).count()));
  stage_chunks_[i].fetch_add(1);
  if (!trace_) return;
  std::uint64_t bytes = chunk.input.valid() ? chunk.input.length : 0;  // or the stage's output
  for (const auto& batch : chunk.batches) bytes += batch.length;
  // Isolated stages: on the track of the worker process that ran them (dispatch to answer).
  const bool in_worker = chunk.worker >= 0 && stage != Stage::kRead && stage != Stage::kWrite;
  const auto track = in_worker ? WorkerTrack(chunk.worker) : trace_->ThreadTrack(Name(stage));
  trace_->Slice(track, Name(stage), since, now,
                {{"chunk", chunk.index}, {"rows", chunk.rows_out}, {"bytes", bytes}});
}

TraceRecorder::Track Import::WorkerTrack(int worker) {
  const auto pid = static_cast<std::uint32_t>(workers_->pid(worker));
  const TraceRecorder::Track track{pid, 1};
  std::lock_guard lock(traced_workers_mutex_);
  if (traced_workers_.insert(pid).second) {
    trace_->NameProcess(pid, "zcpipe worker " + std::to_string(worker));
    trace_->NameTrack(track, "isolated stages");
  }
  return track;
}

bool Import::OpenChunker(const JournalPoint& from) {
  const bool csv = Resolve(config_) == InputFormat::kCsv;
  auto chunker = stages::Chunker::Open(config_.input, {.chunk_size = config_.chunk_size,
                                                       .quote = csv ? '"' : '\0',
                                                       .delimiter = config_.delimiter,
                                                       .encoding = config_.encoding,
                                                       .start_byte = from.input_byte,
                                                       .start_line = from.next_line,
                                                       .start_index = from.chunks});
  if (!chunker) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kRead, "cannot open input",
                   chunker.error().message));
    return false;
  }
  chunker_.emplace(std::move(*chunker));
  return true;
}

bool Import::Open() {
  std::error_code size_error;
  bytes_total_ = std::filesystem::file_size(config_.input, size_error);
  if (size_error) bytes_total_ = 0;  // standard input or a pipe: not known
  const bool csv = Resolve(config_) == InputFormat::kCsv;
  if (!OpenChunker({})) return false;
  // A block holds a chunk, or a batch with room to seal it in place: 2 chunks' worth, for a
  // batch up to twice its CSV. Workers that seal as they parse (isolated, zero-copy, with an
  // output: FrameLedger) do it out of place, beside the batch in its block (the batch stays
  // intact for the Verifier), and find the chunk's ledger slot past the chunk: a chunk's worth
  // more, for a batch up to 1.5 times its CSV and its frame.
  const bool isolated = config_.placement == Placement::kIsolated;
  const bool ledger =
      isolated && !config_.output.empty() && config_.transport == Transport::kZeroCopy;
  chunk_room_ = BlockSize(config_.chunk_size, 2);
  batch_room_ = chunk_room_ - kFrameHeaderSize - kChunkTagSize;
  const auto block_size = block_size_ =
      ledger ? chunk_room_ + BlockSize(config_.chunk_size, 1) : chunk_room_;
  const auto blocks = static_cast<std::uint32_t>(config_.arena_size / block_size);
  // Enough chunks in flight to keep every thread (or worker) busy and the sequencers fed, and
  // no more: memory then stays flat whatever the input's size, well inside the arena. A thread
  // needs its chunk plus one waiting; a worker also one queued and one waiting to be written.
  const std::size_t wanted = isolated ? 2 * WorkerCount() + 2 : Threads() + 2;
  in_flight_ = std::max<std::size_t>(1, std::min<std::size_t>((blocks - 2) / 3, wanted));
  // The blocks the job can hold at once are made resident up front, in 2 MiB pages where the
  // kernel can (shm::PoolOptions): a long run would otherwise grow its resident size as it
  // touches them, and each process that maps them would take a page fault and a page-table
  // entry per 4 KiB. In-process: one per chunk in flight, one more per thread inside a stage.
  // Isolated: per chunk in flight, its input block (from the low end) and its result block
  // (from the high end).
  const auto resident = static_cast<std::uint32_t>(
      std::min<std::size_t>(blocks, isolated ? in_flight_ : in_flight_ + Threads()));
  pool_options_ = {.block_size = block_size,
                   .block_count = blocks,
                   .resident_blocks = resident,
                   .resident_high_blocks = isolated ? resident : 0};
  if (config_.resources) TakeResources();
  // Worker processes start (exec, load, attach their rings) meanwhile, on another core: a few
  // milliseconds each that would otherwise delay the first chunk. Should Open return early,
  // the future's destructor waits for the launch, and Run shuts the workers down.
  std::future<std::string> launched;
  if (isolated && !workers_) {
    launched = std::async(std::launch::async, [this] { return LaunchWorkers(); });
  }
  if (!pool_) {
    auto pool = shm::BlockPool::Create(pool_options_);
    if (!pool) {
      Fail(MakeError(
          IsOutOfSharedMemory(pool.error()) ? ErrorKind::kStage : ErrorKind::kInitialization,
          Stage::kRead, "cannot create arena",
          ArenaError("create the arena", config_.arena_size, pool.error())));
      return false;
    }
    pool_ = std::make_unique<shm::BlockPool>(std::move(*pool));
  }
  // What the chunks behind the head leave free for it: all but the 3 blocks a chunk holds in a
  // run whose transform does not widen its rows (which the limiter sized in_flight_ for), at
  // most half the arena. A widening transform's chunks then queue behind the head, not on it.
  const auto spare =
      static_cast<std::int64_t>(blocks) - 3 * static_cast<std::int64_t>(in_flight_ - 1);
  gate_ = std::make_unique<BlockGate>(*pool_, static_cast<std::uint32_t>(std::clamp<std::int64_t>(
                                                  spare, 1, std::max(1U, blocks / 2))));

  // The first chunk decides the schema (header, inference).
  first_block_ = AllocateBlock(Stage::kRead, 0);
  if (!first_block_) return false;
  auto first = chunker_->Next(Bytes(*first_block_).first(chunk_room_));
  if (!first) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kRead, "cannot read input",
                   first.error().message));
    return false;
  }
  const stages::Chunk empty{{}, 0, 1, 0};
  first_chunk_ = *first ? **first : empty;
  try {
    std::optional<stages::CsvParser> csv_parser;
    stages::Schema parsed_schema;
    if (csv) {
      csv_parser = stages::CsvParser::Create(
          {.delimiter = config_.delimiter, .header = config_.header, .schema = config_.schema},
          *first_chunk_);
      parsed_schema = csv_parser->schema();
    } else {
      parsed_schema =
          config_.schema ? *config_.schema : stages::JsonlParser::InferSchema(*first_chunk_);
    }
    parsed_schema_ = parsed_schema;
    output_schema_ =
        config_.transform ? config_.transform->OutputSchema(parsed_schema) : parsed_schema;
    // A schema of no columns (JSON Lines with no object to infer from) is none: nothing could
    // read the container back, and a worker could not make its parser. Both placements stop.
    if (parsed_schema.size() == 0) {
      throw std::invalid_argument(
          config_.schema      ? "the schema has no columns"
          : bytes_total_ == 0 ? "cannot infer a schema from an empty input: give one"
                              : "cannot infer a schema: no JSON object with a named key in the "
                                "first chunk: give one");
    }
    if (output_schema_.size() == 0) throw std::invalid_argument("the transform leaves no column");
    redactor_ = stages::Redactor(
        config_.transform.get(), parsed_schema,
        {csv, config_.delimiter, csv_parser ? csv_parser->field_to_column() : std::vector<int>{}});
    parsers_.emplace([csv_parser, parsed_schema] {  // each thread's own parser
      AnyParser parser;
      if (csv_parser) {
        parser.csv = csv_parser;
      } else {
        parser.jsonl.emplace(stages::JsonlOptions{parsed_schema});
      }
      return parser;
    });
  } catch (const std::invalid_argument& e) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kParse, "bad schema",
                   input_name_ + ": " + e.what()));
    return false;
  }

  if (!config_.output.empty() && !OpenOutput()) return false;
  // (With an output, OpenOutput opened the rejects file, to record it in the journal.)
  if (config_.on_error == ErrorPolicy::kQuarantine && !rejects_ && !OpenRejects({})) return false;
  if (!config_.trace.empty() && !OpenTrace()) return false;
  if (isolated && !OpenWorkers(csv, launched)) return false;
  // With the copy transport a worker sees its chunk as it was sent, not the slot's later value.
  if (ledger) ledger_.emplace(next_frame_);
  return true;
}

bool Import::OpenRejects(const std::filesystem::path& resume_temp) {
  // Resuming, what the point covers stays; the rows rejected after it are rejected again.
  auto file = resume_temp.empty()
                  ? RejectsFile::Create(config_.rejects, config_.replace_output)
                  : RejectsFile::Resume(config_.rejects, resume_temp, config_.replace_output,
                                        written_to_.rejects_bytes);
  if (!file) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kWrite,
                   resume_temp.empty() ? stages::Name(file.error().code) : "cannot resume",
                   config_.rejects.string() + ": " + stages::Describe(file.error())));
    return false;
  }
  rejects_.emplace(std::move(*file));
  return true;
}

bool Import::OpenTrace() {
  auto file = stages::AtomicFile::Create(config_.trace, config_.replace_output);
  if (!file) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kWrite, stages::Name(file.error().code),
                   config_.trace.string() + ": " + stages::Describe(file.error())));
    return false;
  }
  trace_file_.emplace(std::move(*file));
  return true;
}

void Import::TakeResources() {
  auto& held = StateOf(*config_.resources);
  resources_lock_ = std::unique_lock(held.in_use, std::try_to_lock);
  if (!resources_lock_.owns_lock()) return;  // another job's: this one makes its own
  const auto& had = held.pool_options;
  const bool arena_fits = held.pool && had == pool_options_;
  const bool workers_fit = config_.placement == Placement::kIsolated
                               ? held.workers && held.workers->transport() == config_.transport &&
                                     held.worker_count == WorkerCount()
                               : !held.workers;
  if (arena_fits && workers_fit) {
    pool_ = std::move(held.pool);
    workers_ = std::move(held.workers);
    arena_attached_ = workers_ != nullptr;
    if (workers_) workers_before_ = workers_->stats();
    reused_resources_ = true;
  }
  held.workers.reset();  // what does not fit: the workers first, as they map the arena
  held.pool.reset();
}

void Import::HandBack(bool keep) {
  auto& held = StateOf(*config_.resources);
  if (keep) {
    for (const auto& member : members_) workers_->DestroyMember(member);
    members_.clear();
    held.pool_options = pool_options_;
    held.worker_count = WorkerCount();
    held.pool = std::move(pool_);
    held.workers = std::move(workers_);
  }
  resources_lock_.unlock();
}

std::string Import::LaunchWorkers() {
  // Probes every 100 ms; a chunk unanswered for 10 s means a stalled worker.
  workgroup::HealthConfig health{std::chrono::milliseconds(100), std::chrono::milliseconds(10'000),
                                 2, true};
  try {
    workers_ = std::make_unique<workgroup::Workgroup>(
        workgroup::WorkgroupOptions{.workers = WorkerCount(),
                                    .health = health,
                                    .transport = config_.transport,
                                    .executable = "/proc/self/exe"});
    workers_->Launch();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

bool Import::OpenWorkers(bool csv, std::future<std::string>& launched) {
  const auto fail = [&](const std::string& reason, const std::string& message) {
    Fail(MakeError(ErrorKind::kInitialization, Stage::kParse, reason, message));
    return false;
  };
  if (launched.valid()) {
    if (const auto failure = launched.get(); !failure.empty()) {
      return fail("workers did not start", failure);
    }
  }
  StageSetup setup{.csv = csv,
                   .delimiter = config_.delimiter,
                   .header = config_.header,
                   .schema = parsed_schema_.ToString(),
                   .batch_room = batch_room_};
  if (csv) {  // the parser in the worker reads the header as this one did
    auto records = SplitRecords(first_chunk_->bytes, '"', 1, 0, 1);
    if (!records.empty()) setup.first_record = records.front().raw + "\n";
  }
  if (config_.transform) {
    setup.steps = config_.transform->recipe();
    if (setup.steps.empty()) {
      return fail("transform cannot run isolated",
                  "the transform was not made by ParseTransform (register its kind with "
                  "RegisterTransformKind so that workers can make it)");
    }
  }
  if (writer_) {
    const auto key = writer_->sealer().payload_key();
    setup.payload_key.assign(reinterpret_cast<const char*>(key.data()), key.size());
  }
  const auto encoded = Encode(setup);
  ::explicit_bzero(setup.payload_key.data(), setup.payload_key.size());
  try {
    if (!arena_attached_) workers_->AttachArena(*pool_);
    arena_attached_ = true;
  } catch (const std::exception& e) {
    return fail("workers did not start", e.what());
  }
  // A worker that dies while its member is made (one that a JobResources kept may have died
  // since the last job, unnoticed until now) is replaced: the member is made again, on the
  // replacement or another worker. Set-up that kills every worker it meets still fails.
  constexpr int kMemberAttempts = 3;
  const auto add_member = [&] {
    return workers_->AddMember(kImportStagesMember, std::as_bytes(std::span(encoded.args)),
                               encoded.secret.span(), true);
  };
  const auto worker_died = [](const workgroup::WorkError& error) {
    return error.code == workgroup::WorkErrc::kMember ||
           error.code == workgroup::WorkErrc::kCommunication;
  };
  for (unsigned i = 0; i < WorkerCount(); ++i) {
    auto member = add_member();
    for (int attempt = 1; attempt < kMemberAttempts && !member && worker_died(member.error());
         ++attempt) {
      member = add_member();
    }
    if (!member) return fail("workers did not start", member.error().message);
    members_.push_back(*member);
  }
  member_load_ = std::make_unique<std::atomic<std::uint64_t>[]>(members_.size());  // zeros
  return true;
}

bool Import::OpenOutput() {
  const stages::ContainerWriterOptions options{.schema = output_schema_.ToString(),
                                               .replace_existing = config_.replace_output};
  const auto journal_path = Journal::PathFor(config_.output);
  auto header = Journal::Describe(config_.input, config_.chunk_size);
  auto loaded = config_.resume ? Journal::Load(journal_path) : std::nullopt;
  JournalPoint point;
  const auto settings = SettingsDigest::Of(config_, Resolve(config_), parsed_schema_);
  if (header) header->settings = settings.ToLine();
  const bool resuming = loaded && header && loaded->first.input == header->input &&
                        loaded->first.input_size == header->input_size &&
                        loaded->first.input_mtime == header->input_mtime &&
                        loaded->first.chunk_size == header->chunk_size;
  if (resuming) {
    if (auto refusal = ResumeRefusal(settings, loaded->first.settings)) {
      Fail(MakeError(ErrorKind::kConfiguration, Stage::kWrite, "settings changed",
                     config_.output.string() + ": " + *refusal));
      return false;  // the journal and the container stay, for a resume with the same settings
    }
    point = loaded->second;
    auto writer = stages::ContainerWriter::Resume(config_.output, loaded->first.temp_path,
                                                  *config_.credential, options, point.frames,
                                                  point.container_bytes);
    if (!writer) {
      Fail(MakeError(OutputErrorKind(writer.error(), ErrorKind::kInitialization), Stage::kWrite,
                     "cannot resume",
                     config_.output.string() + ": " + stages::Describe(writer.error())));
      return false;
    }
    writer_.emplace(std::move(*writer));
    // Continue the input where the journal says the container ends.
    if (!OpenChunker(point)) return false;
    Release(*first_block_);  // the first chunk served the schema only; it is in the container
    first_block_.reset();
    rows_in_ = point.rows_in;
    rows_out_ = point.rows_out;
    rows_rejected_ = point.rows_rejected;
    rows_filtered_ = point.rows_filtered;
    chunks_done_ = point.chunks;
    next_frame_ = point.frames;
  } else {
    // Starting over: Create removes the stale temporary file (no live process holds it).
    auto writer = stages::ContainerWriter::Create(config_.output, *config_.credential, options);
    if (!writer) {
      Fail(MakeError(OutputErrorKind(writer.error(), ErrorKind::kInitialization), Stage::kWrite,
                     stages::Name(writer.error().code),
                     config_.output.string() + ": " + stages::Describe(writer.error())));
      return false;
    }
    writer_.emplace(std::move(*writer));
    point.container_bytes = writer_->bytes_written();
  }
  written_to_ = point;
  if (config_.on_error == ErrorPolicy::kQuarantine &&
      !OpenRejects(resuming ? loaded->first.rejects_temp_path : std::string())) {
    return false;
  }
  if (header) {
    header->temp_path = writer_->temp_path().string();
    if (rejects_) header->rejects_temp_path = rejects_->temp_path().string();
    if (auto journal = Journal::Create(journal_path, *header, point)) {
      journal_.emplace(std::move(*journal));
      committer_ = std::thread([this] { RunCommitter(); });
    }
  }
  last_commit_ = Clock::now();
  return true;
}

Msg Import::Read(oneapi::tbb::flow_control& control) {
  const auto since = Clock::now();
  if (cancel_.load() || failed_.load()) {
    if (first_block_) Release(*first_block_), first_block_.reset();
    control.stop();
    return {};
  }
  auto msg = std::make_shared<ChunkState>();
  msg->seq = next_seq_++;
  std::optional<stages::Chunk> chunk;
  if (first_block_) {  // read during set-up
    if (!first_chunk_->bytes.empty()) chunk = first_chunk_;
    msg->input = *first_block_;
    first_block_.reset();
  } else {
    auto block = AllocateBlock(Stage::kRead, msg->seq);
    if (!block) {
      control.stop();
      return {};
    }
    msg->input = *block;
    auto next = chunker_->Next(Bytes(*block).first(chunk_room_));
    if (!next) {
      Fail(MakeError(ErrorKind::kInput, Stage::kRead, "read failed", next.error().message));
    } else if (*next) {
      chunk = **next;
    }
  }
  msg->rejected = chunker_->TakeRejected();  // records dropped before this chunk
  bytes_in_.store(chunker_->bytes_read());
  msg->next.input_byte = chunker_->next_byte();
  msg->next.next_line = chunker_->next_line();
  msg->next.chunks = chunker_->next_index();
  if (!chunk) {
    Release(msg->input);
    msg->input = {};
    if (msg->rejected.empty() || failed_.load()) {
      control.stop();
      return {};
    }
  } else {
    msg->input = msg->input.Sub(0, static_cast<std::uint32_t>(chunk->bytes.size()));
    msg->index = chunk->index;
    msg->first_line = chunk->first_line;
    msg->first_byte = chunk->first_byte;
  }
  msg->rows_in = msg->rejected.size();
  Timed(Stage::kRead, since, *msg);
  return msg;
}

Msg Import::Parse(Msg msg) {
  if (!msg->input.valid() || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  stages::Chunk chunk{Bytes(msg->input), msg->index, msg->first_line, msg->first_byte};
  auto& parser = parsers_->local();
  while (!chunk.bytes.empty()) {
    auto block = AllocateBlock(Stage::kParse, msg->seq, msg.get());
    if (!block) break;
    auto parsed = parser.Parse(chunk, BatchRoom(*block));
    if (!parsed) {
      Release(*block);
      msg->failure =
          MakeError(ErrorKind::kStage, Stage::kParse, "batch too large", parsed.error().message);
      break;
    }
    msg->batches.push_back(HandleOf(*block, parsed->batch));
    msg->rows_in += parsed->rows_out + parsed->rejected.size();
    msg->rows_out += parsed->rows_out;
    for (auto& error : parsed->rejected) msg->rejected.push_back(std::move(error));
    chunk.bytes = chunk.bytes.subspan(parsed->bytes_consumed);
    chunk.first_byte += parsed->bytes_consumed;
    chunk.first_line += parsed->lines_consumed;
  }
  // Offsets inside a converted chunk are in its UTF-8 text: made the input's (stages::Chunker).
  stages::ToInputOffsets(chunker_->encoding(), Bytes(msg->input), msg->first_byte, msg->rejected);
  Release(msg->input);
  msg->input = {};
  Timed(Stage::kParse, since, *msg);
  return msg;
}

Msg Import::Transform(Msg msg) {
  if (!config_.transform || msg->failure || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  std::vector<shm::Handle> outputs;
  msg->rows_out = 0;
  // Each batch's rows go into as many blocks as the transform's output needs (ApplyFrom).
  for (const auto& batch : msg->batches) {
    auto view = stages::BatchView::Open(Bytes(batch));
    std::uint32_t row = 0;
    do {
      auto block = AllocateBlock(Stage::kTransform, msg->seq, msg.get());
      if (!block) break;
      const auto room = BatchRoom(*block);
      auto out = config_.transform->ApplyFrom(*view, row, room, msg->rejected);
      const std::uint64_t covered =
          out ? std::uint64_t{out->rows_out} + out->rows_rejected + out->rows_filtered : 0;
      std::string problem =
          !out                        ? out.error().message
          : !Within(out->batch, room) ? "the transform returned a batch outside its block"
          : (covered == 0 && view->row_count() != 0) || row + covered > view->row_count()
              ? "the transform did not cover its rows"
              : "";
      if (!problem.empty()) {
        Release(*block);
        msg->failure = MakeError(ErrorKind::kStage, Stage::kTransform, "transform failed",
                                 input_name_ + ":" + std::to_string(msg->first_line) + ": chunk " +
                                     std::to_string(msg->index) + ": " + problem);
        break;
      }
      outputs.push_back(HandleOf(*block, out->batch));
      msg->rows_out += out->rows_out;
      msg->rows_filtered += out->rows_filtered;
      row += static_cast<std::uint32_t>(covered);
    } while (row < view->row_count());
    if (msg->failure || failed_.load()) break;
  }
  for (const auto& batch : msg->batches) Release(batch);
  msg->batches = std::move(outputs);
  Timed(Stage::kTransform, since, *msg);
  return msg;
}

void Import::ProcessIsolated(Msg msg, Gateway& gateway) {
  if (!msg->input.valid() || failed_.load() || cancel_.load()) {
    if (ledger_) ledger_->Done(msg->seq, 0);
    gateway.try_put(std::move(msg));
    return;
  }
  gateway.reserve_wait();
  msg->stage_start = Clock::now();
  if (ledger_) ledger_->Track(msg->seq, Bytes(InputTail(*msg, block_size_ - 8)).last<8>());
  msg->todo.push_back({0, msg->input.length, msg->first_line, false});
  ProcessNext(std::move(msg), gateway);
}

void Import::ProcessNext(Msg msg, Gateway& gateway) {
  if (msg->todo.empty() || msg->failure || failed_.load()) {
    if (ledger_) ledger_->Done(msg->seq, msg->failure ? 0 : msg->batches.size());
    stages::ToInputOffsets(chunker_->encoding(), Bytes(msg->input), msg->first_byte,
                           msg->rejected);  // as in Parse
    Release(msg->input);
    msg->input = {};
    // The workers sealed each batch last: that time is drawn as encrypt, at the end.
    const auto now = Clock::now();
    const auto sealing_from = std::max(msg->stage_start, now - msg->sealing);
    Timed(Stage::kParse, msg->stage_start, sealing_from, *msg);
    if (msg->sealing.count() != 0) Timed(Stage::kEncrypt, sealing_from, now, *msg);
    gateway.try_put(std::move(msg));
    gateway.release_wait();
    return;
  }
  const ByteRange range = msg->todo.front();
  // Called back on a member's reply thread: refused a block, the chunk parks, not the thread.
  std::uint64_t epoch = 0;
  auto block = gate_->TryTake(msg->seq, shm::BlockEnd::kHigh, &epoch);
  if (!block) {
    if (MayWait(Stage::kParse, msg->seq, msg.get(), msg->refused_since)) {
      gate_->Park(msg->seq, epoch, [this, msg, &gateway] { ProcessNext(msg, gateway); });
      return;
    }
    msg->todo.clear();
    return ProcessNext(std::move(msg), gateway);
  }
  const std::uint64_t length = range.end - range.begin;
  // A reply that does not add up, or a batch the Verifier refuses, or a frame that does not
  // authenticate, is a crash: re-run. What was checked is what `done` uses: `taken`.
  auto taken = std::make_shared<std::optional<TakenProcess>>();
  const ProcessAsked asked{.length = length,
                           .first_row = range.first_row,
                           .sealer = writer_ ? &writer_->sealer() : nullptr,
                           .keep_batch = !writer_,
                           .buffers = &taken_buffers_};
  const auto valid = [this, block = *block, asked, taken](const shm::Handle& result) {
    *taken = TakeProcessResult(Bytes(block), result.offset, result.length, asked);
    return taken->has_value();
  };
  std::memset(Bytes(*block).data(), 0, 8);  // no kSealingMark yet
  workgroup::Request request{
      .input = ledger_ ? InputTail(*msg, range.begin)
                       : msg->input.Sub(static_cast<std::uint32_t>(range.begin),
                                        static_cast<std::uint32_t>(length)),
      .output = *block,
      .args = {kProcess | msg->batches.size() << 8 | length << 32, msg->index, range.line,
               msg->first_byte + range.begin, range.first_row},
      .validate = valid,
      .max_retries = range.suspect ? std::optional<unsigned>(0) : std::nullopt,
      .populate_output = true};  // the batch at its tail, the frame at its head
  // A continuation goes to the member that parsed the batch, which still has it.
  const int prefer = range.first_row != 0 ? msg->member : -1;
  Call(
      std::move(request), length + length / 8,  // sealing runs ~8x faster than parsing
      [=, this, &gateway](workgroup::WorkResult result, int worker, int member) mutable {
        msg->todo.pop_front();
        msg->worker = worker;
        msg->member = member;
        // A range whose frame may exist must not be cut: its halves would reuse the index.
        const bool sealing_began = !result && SealingBegan(*block);
        if (!result) Release(*block);
        if (!result && result.error().poison && !sealing_began) {
          Isolate(*msg, range, result.error().message);
          return ProcessNext(std::move(msg), gateway);
        }
        if (!result) {
          const bool stage_error = result.error().code == workgroup::WorkErrc::kJob ||
                                   result.error().code == workgroup::WorkErrc::kMember;
          msg->failure =
              MakeError(stage_error ? ErrorKind::kStage : ErrorKind::kWorkerCrash,
                        sealing_began ? Stage::kEncrypt : Stage::kParse,
                        stage_error ? "stage failed" : "worker failed",
                        sealing_began ? result.error().message + " (while sealing chunk " +
                                            std::to_string(msg->index) + ")"
                                      : result.error().message);
          return ProcessNext(std::move(msg), gateway);
        }
        TakenProcess got = std::move(**taken);  // validated: the workgroup called `valid`
        const ProcessReply& reply = got.reply;
        msg->batches.push_back(block->Sub(static_cast<std::uint32_t>(reply.batch_offset),
                                          static_cast<std::uint32_t>(reply.batch_size)));
        msg->taken.push_back(std::move(got.batch));
        msg->frames.push_back({reply.frame_size == 0
                                   ? shm::Handle{}
                                   : block->Sub(static_cast<std::uint32_t>(reply.frame_offset),
                                                static_cast<std::uint32_t>(reply.frame_size)),
                               reply.frame_index, std::move(got.frame)});
        msg->rows_in += reply.rows_in;
        msg->rows_out += reply.rows_out;
        msg->rows_filtered += reply.rows_filtered;
        msg->sealing += std::chrono::nanoseconds(reply.seal_nanos);
        for (const auto& row : reply.rejected) msg->rejected.push_back(row);
        if (reply.bytes_consumed < length) {  // the block filled up: the rest goes next
          msg->todo.push_front({range.begin + reply.bytes_consumed, range.end,
                                range.line + reply.lines_consumed, range.suspect});
        }
        if (reply.next_row != 0) {  // before it, the rest of the batch parsed from this range
          msg->todo.push_front({range.begin, range.begin + reply.bytes_consumed, range.line,
                                range.suspect, static_cast<std::uint32_t>(reply.next_row),
                                reply.next_line});
        }
        ProcessNext(std::move(msg), gateway);
      },
      prefer);
}

void Import::Isolate(ChunkState& chunk, const ByteRange& range, const std::string& why) {
  const bool csv = Resolve(config_) == InputFormat::kCsv;
  const auto bytes = Bytes(chunk.input).subspan(range.begin, range.end - range.begin);
  auto records = SplitRecords(bytes, csv ? '"' : '\0', range.line, chunk.first_byte + range.begin);
  if (csv && config_.header && chunk.first_byte + range.begin == 0 && !records.empty()) {
    records.erase(records.begin());  // the header travels with the first record
  }
  if (range.first_row != 0) {  // the records before it are in the batches made already
    std::erase_if(records, [&](const auto& record) { return record.line < range.first_row_line; });
  }
  if (!range.suspect) {
    channel_.PublishError(MakeError(
        ErrorKind::kWorkerCrash, Stage::kParse, "poison chunk",
        input_name_ + ":" + std::to_string(range.line) + ": chunk " + std::to_string(chunk.index) +
            " kills the workers that process it (" + why + "); looking for the rows that do"));
  }
  if (records.size() <= 1) {  // found one: it goes to the error policy
    for (auto& row : records) {
      channel_.PublishError(MakeError(ErrorKind::kWorkerCrash, Stage::kParse, "poison row",
                                      input_name_ + ":" + std::to_string(row.line) +
                                          ": this row kills the worker that processes it"));
      chunk.rejected.push_back(std::move(row));
      ++chunk.rows_in;
    }
    return;
  }
  // Halve it and try each half once (in order, so that batches stay in input order).
  const auto& first = records.front();
  const auto& middle = records[records.size() / 2];
  const std::uint64_t split = middle.byte_offset - chunk.first_byte;
  chunk.todo.push_front({split, range.end, middle.line, true});
  chunk.todo.push_front({range.first_row != 0 ? first.byte_offset - chunk.first_byte : range.begin,
                         split, range.first_row != 0 ? first.line : range.line, true});
}

void Import::SealIsolated(Msg msg, Gateway& gateway) {
  std::vector<std::size_t> unsealed;  // the batches whose worker did not seal them right
  for (std::size_t i = 0; i < msg->batches.size(); ++i) {
    if (i >= msg->frames.size() || !msg->frames[i].handle.valid()) unsealed.push_back(i);
  }
  if (msg->failure || unsealed.empty() || failed_.load() || cancel_.load()) {
    gateway.try_put(std::move(msg));
    return;
  }
  gateway.reserve_wait();
  msg->stage_start = Clock::now();
  auto left = std::make_shared<std::atomic<std::size_t>>(unsealed.size());
  for (const std::size_t i : unsealed) {
    const shm::Handle batch = msg->batches[i];
    // Out of place, so that a seal cut short by a crash can be re-run on the intact batch: at
    // the start of the batch's block when the batch (its tail) leaves room, else in another.
    const std::uint32_t frame_size = batch.length + kChunkOverhead;
    std::optional<shm::Handle> into;
    if (batch.offset >= frame_size) {
      into = shm::Handle{batch.segment, batch.block, batch.generation, 0, batch.offset};
    } else {
      into = AllocateBlock(Stage::kEncrypt, msg->seq, msg.get());
    }
    workgroup::Request request{
        .input = batch,
        .output = into.value_or(shm::Handle{}),
        .args = {kSeal, msg->first_frame + i},
        // Taken out of the arena and authenticated: Write appends that copy (worker_results.h).
        .validate = [this, frame_size, msg, i](const shm::Handle& frame) {
          if (frame.length != frame_size) return false;
          auto taken =
              TakeFrame(writer_->sealer(), msg->first_frame + i, Bytes(frame), taken_buffers_);
          if (taken) msg->taken[i] = std::move(*taken);
          return taken.has_value();
        }};
    const auto done = [=, this, &gateway](workgroup::WorkResult result, int worker, int) {
      msg->worker = worker;
      {
        std::lock_guard lock(failure_mutex_);
        if (result) {
          if (into->block != batch.block) Release(batch);
          msg->batches[i] = into->Sub(0, frame_size);
        } else {
          if (into && into->block != batch.block) Release(*into);
          if (!msg->failure) {
            msg->failure = MakeError(ErrorKind::kWorkerCrash, Stage::kEncrypt, "worker failed",
                                     result.error().message);
          }
        }
      }
      if (left->fetch_sub(1) == 1) {
        Timed(Stage::kEncrypt, msg->stage_start, *msg);
        gateway.try_put(msg);
        gateway.release_wait();
      }
    };
    if (!into) {
      done(tl::unexpected(
               workgroup::WorkError{workgroup::WorkErrc::kJob, "no arena block for a frame"}),
           -1, -1);
      continue;
    }
    Call(std::move(request), batch.length / 8, done);  // sealing runs ~8x faster than parsing
  }
}

void Import::Call(workgroup::Request request, std::uint64_t cost,
                  std::function<void(workgroup::WorkResult, int, int)> done, int prefer) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < members_.size(); ++i) {
    if (member_load_[i].load() < member_load_[best].load()) best = i;
  }
  if (prefer >= 0 && static_cast<std::size_t>(prefer) < members_.size()) {
    best = static_cast<std::size_t>(prefer);
  }
  member_load_[best] += cost;
  const workgroup::MemberProxy& member = members_[best];
  member.Invoke(std::move(request), [this, best, cost, worker = member.worker(),
                                     done = std::move(done)](workgroup::WorkResult result) {
    member_load_[best] -= cost;
    done(std::move(result), worker, static_cast<int>(best));
  });
}

Msg Import::Number(Msg msg) {  // serial, in order: container frame indices are contiguous
  msg->first_frame = next_frame_;
  next_frame_ += msg->batches.size();
  for (std::size_t i = 0; i < msg->frames.size(); ++i) {
    auto& frame = msg->frames[i];
    if (!frame.handle.valid()) continue;        // not sealed: Encrypt or SealIsolated seals it
    if (frame.index != msg->first_frame + i) {  // the index (nonce) of another batch: used twice
      msg->failure = MakeError(
          ErrorKind::kIntegrity, Stage::kEncrypt, "frame index reused",
          "chunk " + std::to_string(msg->index) + ": a worker sealed its batch " +
              std::to_string(i) + " as frame " + std::to_string(frame.index) + ", not " +
              std::to_string(msg->first_frame + i) + ": an index (AES-GCM nonce) used twice");
      return msg;
    }
    msg->batches[i] = frame.handle;
    msg->taken[i] = std::move(frame.bytes);
  }
  return msg;
}

Msg Import::Encrypt(Msg msg) {
  if (msg->failure || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  for (std::size_t i = 0; i < msg->batches.size(); ++i) {
    const auto batch = Bytes(msg->batches[i]);
    // In place: the frame header goes right before the batch, the tag right after it.
    const std::span<std::byte> frame(batch.data() - kFrameHeaderSize,
                                     batch.size() + kFrameHeaderSize + kChunkTagSize);
    auto sealed = writer_->sealer().Seal(msg->first_frame + i, false, batch, frame);
    if (!sealed) {
      msg->failure = MakeError(ErrorKind::kStage, Stage::kEncrypt, "encryption failed",
                               stages::Describe(sealed.error()));
      break;
    }
    shm::Handle& handle = msg->batches[i];  // now names the sealed frame
    handle.offset -= kFrameHeaderSize;
    handle.length = static_cast<std::uint32_t>(frame.size());
  }
  Timed(Stage::kEncrypt, since, *msg);
  return msg;
}

void Import::Write(const Msg& msg) {  // serial, in input order
  const auto since = Clock::now();
  ChunkState& chunk = *msg;
  if (!failed_.load() && !cancel_.load()) {
    std::stable_sort(chunk.rejected.begin(), chunk.rejected.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
    for (auto& input : chunk.rejected) {
      const stages::RawEcho echo = redactor_.Redact(input);
      ErrorEvent error = FromInput(input, chunk.seq);
      if (config_.on_error == ErrorPolicy::kFail) {
        Fail(std::move(error));
        break;
      }
      if (config_.on_error == ErrorPolicy::kQuarantine) {
        if (auto appended = rejects_->Append(RejectsLine(input_name_, input, echo)); !appended) {
          FailWrite(config_.rejects, appended.error());
          break;
        }
      }
      channel_.PublishError(std::move(error));
    }
    if (chunk.failure) Fail(*chunk.failure);
  }
  if (!failed_.load() && !cancel_.load()) {
    for (std::size_t i = 0; i < chunk.batches.size(); ++i) {
      // Isolated: the copy checked when taken, never the arena's (workers can still write it).
      const std::span<const std::byte> bytes =
          workers_ ? std::span<const std::byte>(chunk.taken[i]) : Bytes(chunk.batches[i]);
      if (writer_) {
        if (auto appended = writer_->Append(bytes); !appended) {
          FailWrite(config_.output, appended.error());
          break;
        }
      } else {
        try {
          config_.batch_sink(stages::BatchView::Open(bytes).value());
        } catch (const std::exception& e) {
          Fail(MakeError(ErrorKind::kStage, Stage::kWrite, "sink failed", e.what()));
          break;
        }
      }
    }
    rows_in_ += chunk.rows_in;
    rows_out_ += chunk.rows_out;
    rows_rejected_ += chunk.rejected.size();
    rows_filtered_ += chunk.rows_filtered;
    ++chunks_done_;
    written_to_ = chunk.next;
    if (committer_.joinable() && Clock::now() - last_commit_ >= config_.journal_interval) {
      Commit();
    }
  }
  Timed(Stage::kWrite, since, chunk);
  ReleaseAll(chunk);
  gate_->Advance(chunk.seq + 1);
  if (trace_) {
    const auto now = Clock::now();
    trace_->Counter("chunks in flight", now,
                    static_cast<double>(stage_chunks_[static_cast<std::size_t>(Stage::kRead)] -
                                        stage_chunks_[static_cast<std::size_t>(Stage::kWrite)]));
    trace_->Counter(
        "arena bytes in use", now,
        static_cast<double>(std::uint64_t{pool_->block_size()} * pool_->blocks_in_use()));
  }
  channel_.PublishProgress(Snapshot(false));
}

JournalPoint Import::PointNow() const {
  JournalPoint point = written_to_;
  point.frames = writer_->chunks_appended();
  point.container_bytes = writer_->bytes_written();
  point.rows_in = rows_in_;
  point.rows_out = rows_out_;
  point.rows_rejected = rows_rejected_;
  point.rows_filtered = rows_filtered_;
  point.rejects_bytes = rejects_ ? rejects_->size() : 0;
  return point;
}

void Import::Commit() {
  last_commit_ = Clock::now();
  if (rejects_) {  // the point covers them: in the file before it (the committer fsyncs them)
    if (auto flushed = rejects_->Flush(); !flushed)
      return FailWrite(config_.rejects, flushed.error());
  }
  {
    std::lock_guard lock(commit_mutex_);
    commit_next_ = PointNow();  // latest wins: the committer takes the newest when it is free
  }
  commit_wanted_.notify_one();
}

bool Import::KeepForResume() {
  if (!config_.resume || !cancel_.load() || failed_.load() || !journal_ || !writer_) return false;
  // REQUIRES: the committer joined, so that this point is the journal's last.
  if (rejects_ && (!rejects_->Flush() || !rejects_->Sync())) return false;
  if (!writer_->Sync() || !journal_->Append(PointNow())) return false;
  writer_->Keep();
  if (rejects_) rejects_->Keep();
  return true;
}

void Import::Publish() {
  if (writer_) {  // the final frame: empty, flagged last
    if (auto last = writer_->Write({}, true); !last) return FailWrite(config_.output, last.error());
  }
  if (trace_file_) {
    const std::string json = trace_->Json();
    if (auto written = trace_file_->Write(std::as_bytes(std::span(json))); !written) {
      return FailWrite(config_.trace, written.error());
    }
  }
  std::vector<const std::filesystem::path*> published;
  const auto publish = [&](const std::filesystem::path& path, stages::ContainerStatus done) {
    if (!done) {
      FailWrite(path, done.error());
      std::error_code ignored;
      for (const auto* earlier : published) std::filesystem::remove(*earlier, ignored);
      return false;
    }
    published.push_back(&path);
    return true;
  };
  (!rejects_ || publish(config_.rejects, rejects_->Publish())) &&
      (!trace_file_ || publish(config_.trace, trace_file_->Commit())) &&
      (!writer_ || publish(config_.output, writer_->Commit()));
  if (!failed_.load() && journal_) journal_->Remove();
}

void Import::FailWrite(const std::filesystem::path& path, const stages::ContainerError& error) {
  Fail(MakeError(OutputErrorKind(error, ErrorKind::kStage), Stage::kWrite, stages::Name(error.code),
                 path.string() + ": " + stages::Describe(error)));
}

void Import::RunCommitter() {
  std::unique_lock lock(commit_mutex_);
  for (;;) {
    commit_wanted_.wait(lock, [this] { return commit_next_ || commit_stop_; });
    if (commit_stop_) return;
    const JournalPoint point = *commit_next_;
    commit_next_.reset();
    lock.unlock();
    // fsync covers every frame appended before the point was taken; only then is it recorded.
    const bool recorded =
        writer_->Sync() && (!rejects_ || rejects_->Sync()) && journal_->Append(point);
    lock.lock();
    if (!recorded) {
      journal_->Remove();  // a stale journal must not be resumed from
      journal_broken_ = true;
      return;
    }
  }
}

void Import::StopCommitter() {
  {
    std::lock_guard lock(commit_mutex_);
    commit_stop_ = true;
  }
  commit_wanted_.notify_one();
  if (committer_.joinable()) committer_.join();
}

ProgressEvent Import::Snapshot(bool final) const {
  ProgressEvent event;
  event.job = job_;
  event.bytes_in = bytes_in_.load();
  event.bytes_total = bytes_total_;
  event.rows_in = rows_in_;
  event.rows_out = rows_out_;
  event.rows_rejected = rows_rejected_;
  event.rows_filtered = rows_filtered_;
  event.chunks_done = chunks_done_;
  for (std::size_t i = 0; i < kStageCount; ++i) {
    event.stages[i].chunks = stage_chunks_[i].load();
    event.stages[i].busy_seconds = static_cast<double>(stage_nanos_[i].load()) * 1e-9;
  }
  event.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  if (event.elapsed_seconds > 0) {
    event.bytes_per_second = static_cast<double>(event.bytes_in) / event.elapsed_seconds;
  }
  if (event.bytes_per_second > 0 && bytes_total_ >= event.bytes_in) {
    event.eta_seconds = static_cast<double>(bytes_total_ - event.bytes_in) / event.bytes_per_second;
  }
  event.final = final;
  event.taken = Clock::now();
  return event;
}

void Import::RunGraph() {
  const int threads = static_cast<int>(Threads());
  oneapi::tbb::task_arena arena(threads);
  arena.execute([&] {
    flow::graph graph;
    flow::input_node<Msg> read(graph, [this](oneapi::tbb::flow_control& c) { return Read(c); });
    flow::limiter_node<Msg> limit(graph, in_flight_);
    auto parallel = [threads](unsigned stage) {
      return static_cast<std::size_t>(stage != 0 ? stage : static_cast<unsigned>(threads));
    };
    flow::function_node<Msg, Msg> parse(graph, parallel(config_.parse_threads),
                                        [this](Msg m) { return Parse(std::move(m)); });
    flow::function_node<Msg, Msg> transform(graph, parallel(config_.transform_threads),
                                            [this](Msg m) { return Transform(std::move(m)); });
    flow::sequencer_node<Msg> in_order(graph, [](const Msg& m) { return m->seq; });
    flow::function_node<Msg, Msg> number(graph, flow::serial,
                                         [this](Msg m) { return Number(std::move(m)); });
    flow::function_node<Msg, Msg> encrypt(graph, parallel(config_.encrypt_threads),
                                          [this](Msg m) { return Encrypt(std::move(m)); });
    flow::sequencer_node<Msg> in_order_again(graph, [](const Msg& m) { return m->seq; });
    flow::function_node<Msg, flow::continue_msg> write(graph, flow::serial, [this](const Msg& m) {
      Write(m);
      return flow::continue_msg{};
    });
    // Isolated: parse + transform, and sealing, run in workers; no TBB thread waits for them.
    flow::async_node<Msg, Msg> process(
        graph, flow::unlimited, [this](Msg m, Gateway& g) { ProcessIsolated(std::move(m), g); });
    flow::async_node<Msg, Msg> seal(graph, flow::unlimited,
                                    [this](Msg m, Gateway& g) { SealIsolated(std::move(m), g); });
    const bool isolated = workers_ != nullptr;
    flow::make_edge(read, limit);
    if (isolated) {
      flow::make_edge(limit, process);
      flow::make_edge(process, in_order);
    } else {
      flow::make_edge(limit, parse);
      flow::make_edge(parse, transform);
      flow::make_edge(transform, in_order);
    }
    if (writer_) {
      flow::make_edge(in_order, number);
      if (isolated) {
        flow::make_edge(number, seal);
        flow::make_edge(seal, in_order_again);
      } else {
        flow::make_edge(number, encrypt);
        flow::make_edge(encrypt, in_order_again);
      }
      flow::make_edge(in_order_again, write);
    } else {
      flow::make_edge(in_order, write);
    }
    flow::make_edge(write, limit.decrementer());
    read.activate();
    graph.wait_for_all();
  });
}

Report Import::Run() {
  Report report;
  report.job = job_;
  if (!config_.trace.empty()) {
    trace_ = std::make_unique<TraceRecorder>(start_, "zcpipe job " + std::to_string(job_));
  }
  if (Open()) RunGraph();
  StopCommitter();
  if (journal_broken_) journal_.reset();
  if (!failed_.load() && !cancel_.load()) Publish();
  report.resumable = KeepForResume();
  report.encoding = chunker_ ? chunker_->encoding() : config_.encoding;
  if (journal_ && !report.resumable) journal_->Remove();  // failed or cancelled: nothing to resume
  // Not published (nor kept for resume): they remove their temporary files.
  writer_.reset();
  rejects_.reset();
  trace_file_.reset();
  {
    std::lock_guard lock(failure_mutex_);
    report.error = failure_;
  }
  report.status = report.error     ? JobStatus::kFailed
                  : cancel_.load() ? JobStatus::kCancelled
                                   : JobStatus::kSucceeded;
  report.totals = Snapshot(true);
  if (pool_) {
    report.arena_bytes = std::uint64_t{pool_->block_size()} * pool_->block_count();
    report.arena_peak_bytes = std::uint64_t{pool_->block_size()} * pool_->high_water();
  }
  const bool keep = Keeps(report.status == JobStatus::kSucceeded);
  if (workers_) {
    if (!keep) workers_->Shutdown(std::chrono::seconds(1));
    const auto stats = workers_->stats();
    report.worker_restarts = stats.restarts - workers_before_.restarts;
    report.bytes_copied_between_stages = stats.bytes_copied - workers_before_.bytes_copied;
  }
  report.reused_resources = reused_resources_;
  if (resources_lock_.owns_lock()) HandBack(keep);
  channel_.Close(report.totals);
  report.listener_failures = channel_.listener_failures();
  const auto latency = channel_.progress_latency();
  report.progress_latency_p50_us = latency.p50_us;
  report.progress_latency_p99_us = latency.p99_us;
  return report;
}

}  // namespace

Report RunImport(std::uint64_t job, const JobConfig& config, EventChannel& channel,
                 const std::atomic<bool>& cancel) {
  return Import(job, config, channel, cancel).Run();
}

}  // namespace zcpipe::detail
