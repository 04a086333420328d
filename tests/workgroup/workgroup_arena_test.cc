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

shm::BlockPool MakePool() { return *shm::BlockPool::Create({.block_size = 4096, .block_count = 4}); }

// Runs arena_test.copy from a block of `from` holding `text` to a block of `to`.
WorkResult CopyThrough(Workgroup& group, shm::BlockPool& from, shm::BlockPool& to,
                       std::string_view text) {
  const auto in = *from.Allocate();
  std::memcpy(from.Resolve(in)->data(), text.data(), text.size());
  const auto out = *to.Allocate();
  auto result =
      group
          .Dispatch({.task = "arena_test.copy",
                     .input = in.Sub(0, static_cast<std::uint32_t>(text.size())),
                     .output = out})
          .get();
  (void)from.Release(in);
  (void)to.Release(out);
  return result;
}

TEST(WorkgroupArenas, AWorkerNoLongerResolvesTheHandlesOfADetachedArena) {
  auto detached = MakePool();
  auto kept = MakePool();
  Workgroup group({.workers = 1});
  group.Launch();
  group.AttachArena(detached);
  group.AttachArena(kept);
  ASSERT_TRUE(CopyThrough(group, detached, kept, "before"));

  group.DetachArena(detached.segment_id());
  auto after = CopyThrough(group, detached, kept, "after");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, WorkErrc::kJob);
  EXPECT_NE(after.error().message.find("does not resolve"), std::string::npos)
      << after.error().message;
  auto other = CopyThrough(group, kept, kept, "the other arena");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(kept.Resolve(*other)->data()),
                             other->length),
            "the other arena");
}

TEST(WorkgroupArenas, AWorkerStartedAfterADetachNeverMapsTheArena) {
  auto detached = MakePool();
  auto kept = MakePool();
  Workgroup group({.workers = 1});
  group.Launch();
  group.AttachArena(detached);
  group.AttachArena(kept);
  group.DetachArena(detached.segment_id());
  const auto added = group.AddWorker();
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(group.Kill(0));  // only the new worker is left
  ASSERT_EQ(group.workers(), std::vector<int>{*added});

  EXPECT_TRUE(CopyThrough(group, kept, kept, "attached"));
  auto after = CopyThrough(group, detached, kept, "detached");
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
