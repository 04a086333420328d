// JournalCommitter: records, off the write stage's thread, how far an import's container got.
// Private to zcpipe::pipeline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "journal.h"
#include "quarantine.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::detail {

// The journal of an import into a .zcp file (journal.h) and the thread that appends its points.
// The write stage hands it a point every JobConfig::journal_interval (Commit); the thread fsyncs
// the container (and the rejects file) and only then appends the point, so that the serial sink
// never waits for the disk mid-run and a point never covers a frame that is not on disk. A
// point that cannot be recorded removes the journal (a stale one must not be resumed from).
//
// Ownership: owns the journal and the thread; borrows the writer and the quarantine, which must
// outlive it. Thread-safety: Commit, Due, Stop, KeepForResume and Remove from one thread (the
// write stage, then the job's); the committer thread touches only the writer's and the
// quarantine's Sync and the journal.
class JournalCommitter {
 public:
  // Starts the thread. REQUIRES: `journal` describes `writer` (and `quarantine`, if not null).
  JournalCommitter(Journal journal, stages::ContainerWriter& writer, Quarantine* quarantine,
                   std::chrono::milliseconds interval);
  ~JournalCommitter();  // Stop()
  JournalCommitter(const JournalCommitter&) = delete;
  JournalCommitter& operator=(const JournalCommitter&) = delete;

  // Whether the interval passed since the last Commit (or the start).
  [[nodiscard]] bool Due() const { return Clock::now() - last_commit_ >= interval_; }
  // Records that the input up to `covered` (its position and row counts) is in the container:
  // flushes the rejects lines it covers, then hands the point to the thread (the newest point
  // wins). Errors: those of Quarantine::Flush (then nothing is handed over).
  [[nodiscard]] stages::ContainerStatus Commit(const JournalPoint& covered);
  // Drops a point not yet committed and joins the thread. Returns whether the journal is
  // still there (false: a point could not be recorded, and it was removed).
  bool Stop();
  // REQUIRES: Stop() returned true. The job was cancelled, to be resumed: makes the container
  // and the rejects durable up to `covered`, appends that point, and leaves their temporary
  // files for the next run. false when the point cannot be recorded.
  [[nodiscard]] bool KeepForResume(const JournalPoint& covered);
  // REQUIRES: Stop() returned true. Deletes the journal (nothing to resume).
  void Remove() { journal_.Remove(); }

 private:
  using Clock = std::chrono::steady_clock;
  // `covered` with where the container ends now: the writer's frames and bytes, the rejects'.
  [[nodiscard]] JournalPoint PointNow(JournalPoint covered) const;
  void Run();

  Journal journal_;
  stages::ContainerWriter& writer_;
  Quarantine* const quarantine_;
  const std::chrono::milliseconds interval_;
  Clock::time_point last_commit_ = Clock::now();
  std::mutex mutex_;
  std::condition_variable wanted_;
  std::optional<JournalPoint> next_;  // guarded by mutex_
  bool stop_ = false;                 // guarded by mutex_
  bool broken_ = false;               // guarded by mutex_; read after the join
  std::thread thread_;                // last: starts once the rest is made
};

}  // namespace zcpipe::detail
