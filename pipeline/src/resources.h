// Resources: the arena and worker processes one job uses, taken from and handed back to a
// JobResources; and what a JobResources holds between jobs. Private to zcpipe::pipeline.
#pragma once

#include <memory>
#include <mutex>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/pipeline/job_resources.h"
#include "zcpipe/shm/block_pool.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::detail {

struct JobResourcesState {
  std::mutex in_use;  // held by the job using them, from its set-up to its end
  // Both or neither. Declared so that the workers, which map the arena, go first.
  std::unique_ptr<shm::BlockPool> pool;
  shm::PoolOptions pool_options;
  std::unique_ptr<workgroup::Workgroup> workers;  // attached to `pool`; absent for in-process jobs
  // How many workers the job that left them asked for. Not workers->workers().size(): a worker
  // that died since is being replaced, and its index is back once it is.
  unsigned worker_count = 0;
};

// One job's arena and (isolated) worker processes: those of JobConfig::resources when they are
// free and fit (Take), else the job's own (set_pool, set_workers); at the job's end handed back
// to JobConfig::resources for the next job, or let go (HandBack).
//
// Ownership: owns the pool and the workers while the job has them; the workers go first (they
// map the arena). Holds JobConfig::resources' lock from Take to HandBack.
// Thread-safety: one thread at a time (the job's), except set_workers, which the launch of the
// workers calls on its own thread while set-up goes on without touching them.
class Resources {
 public:
  // With `shared` free (no other job holds it): holds it, and takes its arena and workers if
  // they were made with `pool_options`, `transport` and `worker_count` workers (none for an
  // in-process job), else drops them (this job's own take their place at its end).
  void Take(JobResources& shared, const shm::PoolOptions& pool_options, bool isolated,
            Transport transport, unsigned worker_count);
  void set_pool(std::unique_ptr<shm::BlockPool> pool) { pool_ = std::move(pool); }
  void set_workers(std::unique_ptr<workgroup::Workgroup> workers) { workers_ = std::move(workers); }

  // Whether the job may leave its arena and workers in JobConfig::resources: it holds them, it
  // succeeded, and no block is in use (nothing of it can still be written).
  [[nodiscard]] bool Keeps(bool succeeded) const {
    return lock_.owns_lock() && succeeded && pool_ && pool_->blocks_in_use() == 0;
  }
  // Leaves the arena and workers (REQUIRES: without this job's members) in the JobResources
  // taken if `keep`, and lets it go. Does nothing when Take did not hold it.
  void HandBack(bool keep);

  [[nodiscard]] shm::BlockPool* pool() const { return pool_.get(); }
  [[nodiscard]] workgroup::Workgroup* workers() const { return workers_.get(); }
  // Whether pool() (and workers()) came from JobConfig::resources.
  [[nodiscard]] bool reused() const { return reused_; }
  // Whether workers() already resolve pool()'s blocks (they came attached to it).
  [[nodiscard]] bool arena_attached() const { return arena_attached_; }
  // workers()->stats() when the job took them (zero for its own).
  [[nodiscard]] const workgroup::WorkgroupStats& stats_before() const { return stats_before_; }

 private:
  JobResourcesState* held_ = nullptr;
  std::unique_lock<std::mutex> lock_;
  shm::PoolOptions pool_options_;
  unsigned worker_count_ = 0;
  std::unique_ptr<shm::BlockPool> pool_;
  std::unique_ptr<workgroup::Workgroup> workers_;  // after pool_: shut down before the arena goes
  bool reused_ = false;
  bool arena_attached_ = false;
  workgroup::WorkgroupStats stats_before_;
};

}  // namespace zcpipe::detail
