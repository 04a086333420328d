// The import's coordinator: its graph, its run from set-up to report, and what the stages tell
// it (import_impl.h names the files of the other parts).
//
// The graph (RunGraph), as oneTBB's examples draw theirs: nodes, then edges.
//
//   read ──▶ limit ◀────────────────── decrementer ────────────────────┐
//              ├──▶ parse ──▶ transform ──┐  in-process                 │
//              └──▶ process ──────────────┤  isolated (in workers)      │
//                                         ▼                             │
//                                      in_order ─────────────────┐      │
//                                         │ with an output       │      │
//                                         ▼                      │ sink │
//                                       number                   │      │
//                                         ├──▶ encrypt ──┐       │      │
//                                         └──▶ seal ─────┤       │      │
//                                                        ▼       │      │
//                                                 in_order_again │      │
//                                                        ▼       ▼      │
//                                                      write ◀───┘      │
//                                                        └──────────────┘
//
// read (input_node) reads each chunk into an arena block; limit (limiter_node) keeps
// ArenaPlan::in_flight chunks in flight, the write stage decrementing it. In-process, parse and
// transform (function_node) run on the job's task-arena threads; isolated, process (async_node)
// hands each chunk to IsolatedStages, whose workers parse, transform and seal, and seal
// (async_node) seals what they did not. in_order and in_order_again (sequencer_node) restore
// input order; number (serial) gives each chunk's batches their container frame indices, and
// encrypt seals them in place. Without an output, chunks go from in_order straight to write,
// which hands their batches to JobConfig::batch_sink; with one, write appends their frames.
#include <oneapi/tbb/task_arena.h>

#include "import.h"
#include "import_impl.h"

namespace zcpipe::detail {

namespace flow = oneapi::tbb::flow;

Import::Import(std::uint64_t job, const JobConfig& config, EventChannel& channel,
               const std::atomic<bool>& cancel)
    : job_(job),
      config_(config),
      errors_(job, config),
      channel_(channel),
      cancel_(cancel),
      start_(Clock::now()) {}

void Import::Fail(ErrorEvent error) {
  channel_.PublishError(error);
  std::lock_guard lock(failure_mutex_);
  if (!failure_) failure_ = std::move(error);
  failed_.store(true);
  if (arena_) arena_->WakeAll();  // chunks waiting for a block end now
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
  const auto pid = static_cast<std::uint32_t>(resources_.workers()->pid(worker));
  const TraceRecorder::Track track{pid, 1};
  std::lock_guard lock(traced_workers_mutex_);
  if (traced_workers_.insert(pid).second) {
    trace_->NameProcess(pid, "zcpipe worker " + std::to_string(worker));
    trace_->NameTrack(track, "isolated stages");
  }
  return track;
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
  using Gateway = IsolatedStages::Gateway;
  const int threads = static_cast<int>(Threads());
  oneapi::tbb::task_arena arena(threads);
  arena.execute([&] {
    const auto parallel = [threads](unsigned stage) {
      return static_cast<std::size_t>(stage != 0 ? stage : static_cast<unsigned>(threads));
    };
    const auto by_seq = [](const Msg& m) { return m->seq; };
    flow::graph graph;
    // Nodes.
    flow::input_node<Msg> read(graph, [this](oneapi::tbb::flow_control& c) { return Read(c); });
    flow::limiter_node<Msg> limit(graph, arena_->plan().in_flight);
    flow::function_node<Msg, Msg> parse(graph, parallel(config_.parse_threads),
                                        [this](Msg m) { return Parse(std::move(m)); });
    flow::function_node<Msg, Msg> transform(graph, parallel(config_.transform_threads),
                                            [this](Msg m) { return Transform(std::move(m)); });
    flow::async_node<Msg, Msg> process(
        graph, flow::unlimited, [this](Msg m, Gateway& g) { isolated_->Process(std::move(m), g); });
    flow::sequencer_node<Msg> in_order(graph, by_seq);
    flow::function_node<Msg, Msg> number(graph, flow::serial,
                                         [this](Msg m) { return Number(std::move(m)); });
    flow::function_node<Msg, Msg> encrypt(graph, parallel(config_.encrypt_threads),
                                          [this](Msg m) { return Encrypt(std::move(m)); });
    flow::async_node<Msg, Msg> seal(
        graph, flow::unlimited, [this](Msg m, Gateway& g) { isolated_->Seal(std::move(m), g); });
    flow::sequencer_node<Msg> in_order_again(graph, by_seq);
    flow::function_node<Msg, flow::continue_msg> write(graph, flow::serial, [this](const Msg& m) {
      Write(m);
      return flow::continue_msg{};
    });

    // Edges.
    const bool isolated = isolated_ != nullptr;
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
  if (auto opened = Open(); opened) {
    RunGraph();
  } else {
    Fail(std::move(opened.error()));
  }
  if (committer_ && !committer_->Stop()) committer_.reset();  // a point could not be recorded
  if (!failed_.load() && !cancel_.load()) PublishFiles();
  report.resumable = KeepForResume();
  report.encoding = chunker_ ? chunker_->encoding() : config_.encoding;
  if (committer_ && !report.resumable) committer_->Remove();  // failed or cancelled: no resume
  committer_.reset();
  // Not published (nor kept for resume): they remove their temporary files.
  writer_.reset();
  quarantine_.reset();
  trace_file_.reset();
  {
    std::lock_guard lock(failure_mutex_);
    report.error = failure_;
  }
  report.status = report.error     ? JobStatus::kFailed
                  : cancel_.load() ? JobStatus::kCancelled
                                   : JobStatus::kSucceeded;
  report.totals = Snapshot(true);
  if (const auto* pool = resources_.pool()) {
    report.arena_bytes = std::uint64_t{pool->block_size()} * pool->block_count();
    report.arena_peak_bytes = std::uint64_t{pool->block_size()} * pool->high_water();
  }
  const bool keep = resources_.Keeps(report.status == JobStatus::kSucceeded);
  if (auto* workers = resources_.workers()) {
    if (!keep) workers->Shutdown(std::chrono::seconds(1));
    const auto stats = workers->stats();
    report.worker_restarts = stats.restarts - resources_.stats_before().restarts;
    report.bytes_copied_between_stages =
        stats.bytes_copied - resources_.stats_before().bytes_copied;
  }
  report.dialect = dialect_;
  report.reused_resources = resources_.reused();
  if (keep && isolated_) isolated_->DropMembers();
  resources_.HandBack(keep);
  channel_.Close(report.totals);
  report.listener_failures = channel_.listener_failures();
  const auto latency = channel_.progress_latency();
  report.progress_latency_p50_us = latency.p50_us;
  report.progress_latency_p99_us = latency.p99_us;
  return report;
}

Report RunImport(std::uint64_t job, const JobConfig& config, EventChannel& channel,
                 const std::atomic<bool>& cancel) {
  return Import(job, config, channel, cancel).Run();
}

}  // namespace zcpipe::detail
