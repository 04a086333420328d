#include "resources.h"

namespace zcpipe {

JobResources::JobResources() : state_(std::make_unique<detail::JobResourcesState>()) {}

JobResources::~JobResources() = default;

namespace detail {

JobResourcesState& StateOf(JobResources& resources) { return *resources.state_; }

void Resources::Take(JobResources& shared, const shm::PoolOptions& pool_options, bool isolated,
                     Transport transport, unsigned worker_count) {
  auto& held = StateOf(shared);
  lock_ = std::unique_lock(held.in_use, std::try_to_lock);
  if (!lock_.owns_lock()) return;  // another job's: this one makes its own
  held_ = &held;
  pool_options_ = pool_options;
  worker_count_ = worker_count;
  const bool arena_fits = held.pool && held.pool_options == pool_options;
  const bool workers_fit = isolated ? held.workers && held.workers->transport() == transport &&
                                          held.worker_count == worker_count
                                    : !held.workers;
  if (arena_fits && workers_fit) {
    pool_ = std::move(held.pool);
    workers_ = std::move(held.workers);
    arena_attached_ = workers_ != nullptr;
    if (workers_) stats_before_ = workers_->stats();
    reused_ = true;
  }
  held.workers.reset();  // what does not fit: the workers first, as they map the arena
  held.pool.reset();
}

void Resources::HandBack(bool keep) {
  if (!lock_.owns_lock()) return;
  if (keep) {
    held_->pool_options = pool_options_;
    held_->worker_count = worker_count_;
    held_->pool = std::move(pool_);
    held_->workers = std::move(workers_);
  }
  lock_.unlock();
}

}  // namespace detail
}  // namespace zcpipe
