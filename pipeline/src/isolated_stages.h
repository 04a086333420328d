// IsolatedStages: parse, transform and seal run in worker processes, on handles into the arena.
// Private to zcpipe::pipeline.
#pragma once

#include <oneapi/tbb/flow_graph.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chunk_arena.h"
#include "chunk_state.h"
#include "frame_ledger.h"
#include "import_error.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/schema.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::detail {

// What a stage tells the job it runs for (the import's coordinator implements it): how long it
// took on a chunk, errors that fail the job, errors that are only reported, and whether the job
// stopped. Thread-safety: any thread.
class StageHost {
 public:
  virtual void Timed(Stage stage, Clock::time_point since, Clock::time_point until,
                     const ChunkState& chunk) = 0;
  virtual void Fail(ErrorEvent error) = 0;     // the job fails with `error` (the first one)
  virtual void Publish(ErrorEvent error) = 0;  // reported on the error channel; the job goes on
  [[nodiscard]] virtual bool failed() const = 0;
  [[nodiscard]] virtual bool cancelled() const = 0;

 protected:
  ~StageHost() = default;
};

// The isolated placement's stages (docs/pipeline.md, "Isolated placement"). Each chunk's byte
// ranges go, one at a time, to the import-stages member (import_stages.h) of the worker with
// the least work queued; the member parses, transforms and (with the ledger) seals them into a
// result block, and what it wrote is taken out of the arena and checked (worker_results.h)
// before anything uses it. A range that kills its workers is halved until the row that does is
// found and rejected as poison (Isolate). Batches a worker did not seal are sealed by another
// request once their frame index is known (Seal). No TBB thread waits on a worker: replies
// come on the workgroup's threads, and a chunk refused a block parks (ChunkArena::Park).
//
// Ownership: borrows the config, errors, arena, workgroup, writer and host, which must outlive
// it; owns one member per worker (Open .. DropMembers) and the frame ledger.
// Thread-safety: Process and Seal from the graph's threads; replies on the workgroup's.
class IsolatedStages {
 public:
  using Gateway = oneapi::tbb::flow::async_node<Msg, Msg>::gateway_type;

  // `count` worker processes of `transport`, started (Workgroup::Launch), probed every 100 ms;
  // a chunk unanswered for 10 s means a stalled worker. Errors: "workers did not start".
  [[nodiscard]] static ImportResult<std::unique_ptr<workgroup::Workgroup>> Launch(
      const JobErrors& errors, unsigned count, Transport transport);

  // REQUIRES: `workers` launched, `writer` (null: a batch sink) the job's.
  IsolatedStages(const JobConfig& config, const JobErrors& errors, ChunkArena& arena,
                 workgroup::Workgroup& workers, stages::ContainerWriter* writer, StageHost& host);
  IsolatedStages(const IsolatedStages&) = delete;
  IsolatedStages& operator=(const IsolatedStages&) = delete;

  // What the workers' members need to parse as this process does.
  struct Setup {
    bool csv = false;
    stages::CsvDialect dialect;  // CSV: the one the coordinator read the first chunk with
    const stages::Schema& parsed_schema;
    std::span<const std::byte> first_chunk;               // the CSV header is its first record
    stages::Encoding encoding = stages::Encoding::kUtf8;  // the input's, as the Chunker read it
    std::uint64_t first_frame = 0;  // the container's next frame index (FrameLedger)
    unsigned members = 1;           // one per worker
  };
  // Attaches the workers to `pool` unless `attached`, and makes one member per worker (a worker
  // that dies meanwhile is replaced, up to 3 attempts each). Errors: "workers did not start",
  // "transform cannot run isolated" (kInitialization).
  [[nodiscard]] ImportStatus Open(const Setup& setup, shm::BlockPool& pool, bool attached);
  // Destroys the members (the workers go on to another job).
  void DropMembers();

  // Graph node bodies (async_node): parse and transform the chunk in workers, then pass it on;
  // seal the batches its workers did not.
  void Process(Msg msg, Gateway& gateway);
  void Seal(Msg msg, Gateway& gateway);

 private:
  // Runs the chunk's byte ranges still to do through workers, one at a time, then passes the
  // chunk on.
  void ProcessNext(Msg msg, Gateway& gateway);
  // A range that killed its workers: its only row is rejected as poison, or it is halved.
  void Isolate(ChunkState& chunk, const ByteRange& range, const std::string& why);
  // The chunk's input block from `offset` to the block's end, where its FrameLedger slot is.
  [[nodiscard]] shm::Handle InputTail(const ChunkState& chunk, std::uint64_t offset) const;
  // Whether a worker began sealing a frame in `block` (kSealingMark), in any attempt.
  [[nodiscard]] bool SealingBegan(const shm::Handle& block) const;
  // Runs `request` on the member whose worker has the least work queued (`cost`: an estimate in
  // parse-equivalent bytes, or on member `prefer` if not -1), then `done` with the result,
  // that worker's index and the member's.
  void Call(workgroup::Request request, std::uint64_t cost,
            std::function<void(workgroup::WorkResult, int worker, int member)> done,
            int prefer = -1);

  const JobConfig& config_;
  const JobErrors& errors_;
  ChunkArena& arena_;
  workgroup::Workgroup& workers_;
  stages::ContainerWriter* const writer_;
  StageHost& host_;
  bool csv_ = false;
  stages::Encoding encoding_ = stages::Encoding::kUtf8;  // Setup::encoding
  stages::CsvDialect dialect_;  // CSV
  // With ArenaPlan::ledger: each chunk's first frame index, for its worker to seal with.
  std::optional<FrameLedger> ledger_;
  std::vector<workgroup::MemberProxy> members_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> member_load_;  // queued cost per member
  std::mutex seal_mutex_;  // a chunk's seal replies update it one at a time
};

}  // namespace zcpipe::detail
