// What a JobResources holds between jobs. Private to zcpipe::pipeline.
#pragma once

#include <memory>
#include <mutex>

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

}  // namespace zcpipe::detail
