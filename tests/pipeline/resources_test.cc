// Resources: a job hands its arena on to the next job that fits, never to one that does not,
// and a JobResources serves one job at a time (issue 23: the resources' own class).
#include "resources.h"

#include <gtest/gtest.h>

namespace zcpipe::detail {
namespace {

constexpr shm::PoolOptions kOptions{.block_size = 4096, .block_count = 4};

// A job that takes `shared`, makes its own arena if it got none, and succeeds (keep).
shm::BlockPool* RunJob(JobResources& shared, const shm::PoolOptions& options, bool* reused) {
  Resources job;
  job.Take(shared, options, false, Transport::kZeroCopy, 0);
  if (job.pool() == nullptr)
    job.set_pool(std::make_unique<shm::BlockPool>(std::move(*shm::BlockPool::Create(options))));
  *reused = job.reused();
  shm::BlockPool* pool = job.pool();
  EXPECT_TRUE(job.Keeps(true));
  job.HandBack(true);
  return pool;
}

TEST(Resources, TheNextJobThatFitsTakesTheArenaTheLastOneLeft) {
  JobResources shared;
  bool reused = true;
  shm::BlockPool* first = RunJob(shared, kOptions, &reused);
  EXPECT_FALSE(reused);
  shm::BlockPool* second = RunJob(shared, kOptions, &reused);
  EXPECT_TRUE(reused);
  EXPECT_EQ(second, first);
}

TEST(Resources, AJobThatDoesNotFitMakesItsOwn) {
  JobResources shared;
  bool reused = true;
  RunJob(shared, kOptions, &reused);
  shm::PoolOptions other = kOptions;
  other.block_count = 8;
  RunJob(shared, other, &reused);
  EXPECT_FALSE(reused);
}

TEST(Resources, AJobFindingThemBusyNeitherTakesNorKeepsThem) {
  JobResources shared;
  bool reused = true;
  RunJob(shared, kOptions, &reused);
  Resources holder;
  holder.Take(shared, kOptions, false, Transport::kZeroCopy, 0);
  ASSERT_TRUE(holder.reused());
  Resources other;  // another job at once
  other.Take(shared, kOptions, false, Transport::kZeroCopy, 0);
  EXPECT_EQ(other.pool(), nullptr);
  other.set_pool(std::make_unique<shm::BlockPool>(std::move(*shm::BlockPool::Create(kOptions))));
  EXPECT_FALSE(other.Keeps(true));  // it does not hold them: its arena goes with it
  other.HandBack(true);
  holder.HandBack(true);
  RunJob(shared, kOptions, &reused);
  EXPECT_TRUE(reused);
}

}  // namespace
}  // namespace zcpipe::detail
