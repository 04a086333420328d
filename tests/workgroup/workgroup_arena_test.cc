// Workgroup (workgroup.h): arenas attached and detached, and workers added while it runs.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::workgroup {
namespace {

// Copies its input to its output: it reads and writes in place in the caller's arenas.
const bool kCopy = RegisterTask("arena_test.copy", [](TaskContext& call) -> TaskResult {
  if (call.input().size() > call.output().size()) return TaskFail("output too small");
  std::memcpy(call.output().data(), call.input().data(), call.input().size());
  return call.input().size();
});

shm::BlockPool MakePool() {
  return *shm::BlockPool::Create({.block_size = 4096, .block_count = 4});
}

// Runs arena_test.copy from a block of `from` holding `text` to a block of `to`; what it copied.
tl::expected<std::string, WorkError> CopyThrough(Workgroup& group, shm::BlockPool& from,
                                                 shm::BlockPool& to, std::string_view text) {
  const auto in = *from.Allocate();
  std::memcpy(from.Resolve(in)->data(), text.data(), text.size());
  const auto out = *to.Allocate();
  auto result = group
                    .Dispatch({.task = "arena_test.copy",
                               .input = in.Sub(0, static_cast<std::uint32_t>(text.size())),
                               .output = out})
                    .get();
  std::string copied;
  if (result) {
    copied.assign(reinterpret_cast<const char*>(to.Resolve(*result)->data()), result->length);
  }
  (void)from.Release(in);
  (void)to.Release(out);
  if (!result) return tl::unexpected(std::move(result.error()));
  return copied;
}

// One worker, two arenas attached: `detached_` (which the tests detach) and `kept_`.
class WorkgroupArenas : public ::testing::Test {
 protected:
  void SetUp() override {
    group_.Launch();
    group_.AttachArena(detached_);
    group_.AttachArena(kept_);
  }
  shm::BlockPool detached_ = MakePool();
  shm::BlockPool kept_ = MakePool();
  Workgroup group_{{.workers = 1}};  // destroyed first: its workers stop before the pools go
};

TEST_F(WorkgroupArenas, AWorkerNoLongerResolvesTheHandlesOfADetachedArena) {
  EXPECT_EQ(CopyThrough(group_, detached_, kept_, "before"), "before");

  group_.DetachArena(detached_.segment_id());
  auto after = CopyThrough(group_, detached_, kept_, "after");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, WorkErrc::kJob);
  EXPECT_NE(after.error().message.find("does not resolve"), std::string::npos)
      << after.error().message;
  EXPECT_EQ(CopyThrough(group_, kept_, kept_, "the other arena"), "the other arena");
}

TEST_F(WorkgroupArenas, AWorkerStartedAfterADetachNeverMapsTheArena) {
  group_.DetachArena(detached_.segment_id());
  const auto added = group_.AddWorker();
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(group_.Kill(0));  // only the new worker is left
  ASSERT_EQ(group_.workers(), std::vector<int>{*added});

  EXPECT_EQ(CopyThrough(group_, kept_, kept_, "attached"), "attached");
  auto after = CopyThrough(group_, detached_, kept_, "detached");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, WorkErrc::kJob);
}

TEST(WorkgroupWorkers, AWorkerThatCannotStartLaterIsAnErrorValueWithItsErrno) {
  Workgroup group({.workers = 0, .executable = "/nonexistent/zcpipe-worker"});
  group.Launch();  // no worker yet: nothing to fail
  int reported = 0;
  group.OnError(WorkErrc::kInitialization, [&](const WorkError&) { ++reported; });

  const auto added = group.AddWorker();
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, WorkErrc::kInitialization);
  EXPECT_EQ(added.error().sys_errno, ENOENT) << added.error().message;
  EXPECT_EQ(added.error().worker, 0);
  EXPECT_NE(added.error().message.find("cannot start worker"), std::string::npos)
      << added.error().message;
  EXPECT_EQ(reported, 1);
  EXPECT_TRUE(group.workers().empty());
}

}  // namespace
}  // namespace zcpipe::workgroup
