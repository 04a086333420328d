// JobResources: the arena and worker processes one import hands on to the next.
#pragma once

#include <memory>

namespace zcpipe {

class JobResources;
namespace detail {
struct JobResourcesState;
JobResourcesState& StateOf(JobResources& resources);
}  // namespace detail

// What a job makes before it reads a byte, kept for the jobs after it: the shared-memory arena
// (created, and for an in-process job made resident) and, for an isolated job, the worker
// processes (started, their libraries loaded, their heaps grown and the arena mapped). A
// program that imports many files passes the same JobResources to each job
// (JobConfig::resources), and every job after the first starts warm.
//
// A job takes the resources when no other job holds them and what they hold fits its
// configuration (chunk size, arena size, placement, worker count, transport); otherwise it
// makes its own, and the next job that fits keeps those. Either way the job's output is the
// same. A job that succeeds leaves its arena and workers here; one that fails or is cancelled
// shuts its workers down and removes its arena (a worker may still be writing into it), and
// the next job starts cold.
//
// Ownership: shared by the jobs given it; the worker processes and the arena go with the last
// reference. Thread-safety: jobs running at once may share one; it serves one job at a time.
class JobResources {
 public:
  JobResources();
  JobResources(const JobResources&) = delete;
  JobResources& operator=(const JobResources&) = delete;
  ~JobResources();  // shuts the workers down (1 s), then removes the arena

 private:
  friend detail::JobResourcesState& detail::StateOf(JobResources& resources);
  std::unique_ptr<detail::JobResourcesState> state_;
};

}  // namespace zcpipe
