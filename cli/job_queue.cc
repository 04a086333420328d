#include "job_queue.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <utility>

#include "zcpipe/pipeline/job_resources.h"

namespace zcpipe::cli {

JobQueue::JobQueue(std::vector<JobConfig> configs, std::size_t at_once)
    : configs_(std::move(configs)), at_once_(at_once), running_(configs_.size(), nullptr) {}

std::vector<std::optional<Report>> JobQueue::Run() {
  std::vector<std::optional<Report>> reports(configs_.size());
  {
    std::vector<std::jthread> runners;
    const std::size_t count = std::min(at_once_, configs_.size());
    for (std::size_t i = 0; i < count; ++i) {
      runners.emplace_back([this, &reports] { RunInputs(reports); });
    }
  }  // joins them
  if (start_failure_) std::rethrow_exception(start_failure_);
  return reports;
}

void JobQueue::RunInputs(std::vector<std::optional<Report>>& reports) {
  const auto resources = std::make_shared<JobResources>();
  for (;;) {
    std::optional<Job> job;
    std::size_t input = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || next_ == configs_.size()) return;
      input = next_++;
      configs_[input].resources = resources;
      try {
        job.emplace(Job::Start(std::move(configs_[input])));
      } catch (...) {
        start_failure_ = std::current_exception();
        StopLocked();
        return;
      }
      running_[input] = &*job;
    }
    Report report = job->Wait();
    std::lock_guard lock(mutex_);
    running_[input] = nullptr;
    reports[input] = std::move(report);
  }
}

void JobQueue::Cancel() {
  std::lock_guard lock(mutex_);
  StopLocked();
}

void JobQueue::StopLocked() {
  stopped_ = true;
  for (Job* job : running_) {
    if (job != nullptr) job->Cancel();
  }
}

}  // namespace zcpipe::cli
