// JobQueue: the imports of one `zcpipe run`, a few at a time, each runner handing its arena and
// worker processes on to its next input.
#pragma once

#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "zcpipe/pipeline/job.h"

namespace zcpipe::cli {

// Runs one job per JobConfig, at most `at_once` at a time, in input order. Each of the
// `at_once` runners keeps one JobResources and runs its inputs one after another on it, so an
// input after a runner's first starts on a warm arena and, isolated, warm workers; and however
// many inputs there are, no more arenas and worker processes exist than runners.
//
// Thread-safety: Cancel from any thread (e.g. at Ctrl-C), also while Run runs; Run once, from
// one thread.
class JobQueue {
 public:
  // REQUIRES: at_once >= 1.
  JobQueue(std::vector<JobConfig> configs, std::size_t at_once);

  // Runs the jobs and returns their reports by input; nullopt for an input that did not start
  // (after Cancel). Throws what Job::Start threw (std::invalid_argument: a configuration that
  // cannot work) once the jobs then running were cancelled and ended.
  [[nodiscard]] std::vector<std::optional<Report>> Run();

  // Cancels the running jobs and starts no more.
  void Cancel();

 private:
  void RunInputs(std::vector<std::optional<Report>>& reports);
  void StopLocked();  // REQUIRES: mutex_ held

  std::vector<JobConfig> configs_;
  const std::size_t at_once_;
  std::mutex mutex_;
  std::size_t next_ = 0;              // the next input to start, guarded by mutex_
  bool stopped_ = false;              // guarded by mutex_
  std::vector<Job*> running_;         // by input; null unless running, guarded by mutex_
  std::exception_ptr start_failure_;  // guarded by mutex_
};

}  // namespace zcpipe::cli
