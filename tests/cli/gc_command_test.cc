// Runs the real zcpipe binary (path in ZCPIPE_BIN, set by CTest).
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "child_process.h"
#include "zcpipe/shm/segment.h"
#include "zcpipe_command.h"

namespace zcpipe::cli {
namespace {

using testing::ChildProcess;
using testing::LinePipe;
using testing::ShmExists;
using testing::Zcpipe;

TEST(GcCommand, RemovesOnlySegmentsOfDeadProcesses) {
  auto live = shm::Segment::Create({.payload_size = 4096});
  ASSERT_TRUE(live);
  LinePipe pipe;
  ChildProcess creator = ChildProcess::Fork([&pipe]() -> int {
    auto segment = shm::Segment::Create({.payload_size = 4096});
    if (!segment) return 1;
    pipe.WriteLine(segment->name());
    for (;;) ::pause();
  });
  const auto orphan = pipe.ReadLine();
  ASSERT_TRUE(orphan);
  creator.Kill(SIGKILL);
  ASSERT_TRUE(creator.Wait());

  const auto preview = Zcpipe("gc --dry-run");
  EXPECT_EQ(preview.exit_code, 0) << preview.out;
  EXPECT_NE(preview.out.find("would remove /dev/shm/" + *orphan), std::string::npos) << preview.out;
  EXPECT_EQ(preview.out.find(live->name()), std::string::npos) << preview.out;
  EXPECT_TRUE(ShmExists(*orphan));

  const auto gc = Zcpipe("gc");
  EXPECT_EQ(gc.exit_code, 0) << gc.out;
  EXPECT_NE(gc.out.find("removed /dev/shm/" + *orphan), std::string::npos) << gc.out;
  EXPECT_FALSE(ShmExists(*orphan));
  EXPECT_TRUE(ShmExists(live->name()));
}

TEST(Cli, UsageErrorsExitWithCode2AndVersionWith0) {
  EXPECT_EQ(Zcpipe("").exit_code, 2);
  EXPECT_EQ(Zcpipe("no-such-command").exit_code, 2);
  EXPECT_EQ(Zcpipe("gc --no-such-flag").exit_code, 2);
  const auto version = Zcpipe("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("zcpipe 0."), std::string::npos) << version.out;
}

}  // namespace
}  // namespace zcpipe::cli
