// Runs the real zcpipe binary (path in ZCPIPE_BIN, set by CTest).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "child_process.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::cli {
namespace {

using testing::ChildProcess;
using testing::LinePipe;
using testing::ShmExists;

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

CommandResult Zcpipe(const std::string& arguments) {
  const std::string command = std::string(std::getenv("ZCPIPE_BIN")) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  CommandResult run{-1, {}};
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) run.output += buffer;
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

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

  const CommandResult preview = Zcpipe("gc --dry-run");
  EXPECT_EQ(preview.exit_code, 0) << preview.output;
  EXPECT_NE(preview.output.find("would remove /dev/shm/" + *orphan), std::string::npos)
      << preview.output;
  EXPECT_EQ(preview.output.find(live->name()), std::string::npos) << preview.output;
  EXPECT_TRUE(ShmExists(*orphan));

  const CommandResult gc = Zcpipe("gc");
  EXPECT_EQ(gc.exit_code, 0) << gc.output;
  EXPECT_NE(gc.output.find("removed /dev/shm/" + *orphan), std::string::npos) << gc.output;
  EXPECT_FALSE(ShmExists(*orphan));
  EXPECT_TRUE(ShmExists(live->name()));
}

TEST(Cli, UsageErrorsExitWithCode2AndVersionWith0) {
  EXPECT_EQ(Zcpipe("").exit_code, 2);
  EXPECT_EQ(Zcpipe("no-such-command").exit_code, 2);
  EXPECT_EQ(Zcpipe("gc --no-such-flag").exit_code, 2);
  const CommandResult version = Zcpipe("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("zcpipe 0."), std::string::npos) << version.output;
}

}  // namespace
}  // namespace zcpipe::cli
