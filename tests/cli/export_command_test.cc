#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using ExportCommand = CliTest;

TEST_F(ExportCommand, WritesCsvToAFileAndJsonLinesToStdout) {
  ImportCsv(2000);
  const auto csv = Run("export out.zcp --to csv -o back.csv -k key");
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(Read("back.csv"), Read("in.csv"));

  const auto jsonl = Run("export out.zcp --to jsonl -o - -k key");
  EXPECT_EQ(jsonl.exit_code, 0) << jsonl.err;
  EXPECT_EQ(jsonl.out.substr(0, jsonl.out.find('\n')),
            R"({"id":0,"email":"user0@example.org","amount":0.5})");
  EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), '\n'), 2000);
}

TEST_F(ExportCommand, NeverReplacesAFileUnlessForced) {
  ImportCsv(10);
  const auto refused = Run("export out.zcp --to csv -o in.csv -k key");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_NE(refused.err.find("already exists"), std::string::npos) << refused.err;
  EXPECT_EQ(Run("export out.zcp --to csv -o in.csv -k key --force").exit_code, 0);
  EXPECT_EQ(Run("export out.zcp --to xml -o x -k key").exit_code, 2);
  EXPECT_EQ(Run("export out.zcp --to csv -o - -k key --delimiter '\"'").exit_code, 2);
  // Not even --force writes the export over its own container.
  const auto onto_itself = Run("export out.zcp --to csv -o ./out.zcp -k key --force");
  EXPECT_EQ(onto_itself.exit_code, 2);
  EXPECT_EQ(onto_itself.err, "zcpipe: error: ./out.zcp: the output is the container\n");
  EXPECT_EQ(Run("verify out.zcp -k key").exit_code, 0);
}

// The export is stopped early in its output, sent SIGINT and continued, so that the signal
// finds it under way however fast the machine runs it (one that got further first, as a loaded
// machine may let it, is tried again).
TEST_F(ExportCommand, SigintCancelsCleanlyAndExitsWith130) {
  ImportCsv(2'000'000);  // over half a second of export
  const auto half = std::filesystem::file_size(dir_ / "in.csv") / 2;  // of the JSON Lines, less
  for (int attempt = 1;; ++attempt) {
    testing::BackgroundZcpipe exported("export out.zcp --to jsonl -o back.jsonl -k key",
                                       dir_.string());
    const auto writing = [&] {  // its temporary file is there: the export is under way
      return std::ranges::any_of(
          Files(), [](const std::string& name) { return name.starts_with(".back.jsonl.tmp-"); });
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!writing() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!StoppedEarlyIn(exported, dir_ / "back.jsonl", half)) {
      exported.Continue();
      (void)exported.Wait();
      std::filesystem::remove(dir_ / "back.jsonl");
      ASSERT_LT(attempt, 5) << "the export was never stopped early";
      continue;
    }
    ASSERT_EQ(::kill(exported.pid(), SIGINT), 0);
    exported.Continue();
    std::string last;
    while (auto line = exported.ReadErrLine()) last = *line;
    EXPECT_EQ(exported.Wait(), 130) << last;
    EXPECT_EQ(last, "zcpipe: interrupted: the export was cancelled, no output was published");
    EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key", "out.zcp"}));  // no temp file
    break;
  }
}

// Issue 22: `kill -9` during an export left a plaintext ".back.csv.tmp-*". It is 0600; `zcpipe
// gc back.csv` removes it once its writer is dead, never while it runs, and so does the next
// export to that path.
TEST_F(ExportCommand, AKilledExportLeavesOnlyA0600TemporaryThatGcAndTheNextExportRemove) {
  ImportCsv(2'000'000);
  const auto temporary = [&]() -> std::string {
    for (const auto& name : Files()) {
      if (name.starts_with(".back.csv.tmp-")) return name;
    }
    return {};
  };
  for (const bool gc : {true, false}) {
    SCOPED_TRACE(gc ? "zcpipe gc back.csv" : "zcpipe export -o back.csv");
    const mode_t umask = ::umask(022);  // the export's
    testing::BackgroundZcpipe exported("export out.zcp --to csv -o back.csv -k key", dir_.string());
    ::umask(umask);
    // Its temporary file exists a moment before the writer locks it: wait for the lock.
    const auto locked = [&] {
      const std::string name = temporary();
      if (name.empty()) return false;
      const int fd = ::open((dir_ / name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      ::close(fd);  // (and with it the shared lock, if this probe got one)
      return held;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!locked() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    exported.Stop();  // under way, its temporary file locked: a live writer's
    const std::string temp = temporary();
    ASSERT_FALSE(temp.empty()) << "the export never started, or finished at once";
    struct stat info {};
    ASSERT_EQ(::stat((dir_ / temp).c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    if (gc) {
      const auto live = Run("gc back.csv");
      EXPECT_EQ(live.exit_code, 0) << live.err;
      EXPECT_NE(live.out.find("temporary files: 0 removed, 1 being written"), std::string::npos)
          << live.out;
      EXPECT_EQ(temporary(), temp);
    }
    ASSERT_EQ(::kill(exported.pid(), SIGKILL), 0);
    EXPECT_EQ(exported.Wait(), -1);
    EXPECT_EQ(temporary(), temp);  // left by the dead export
    if (gc) {
      const auto swept = Run("gc back.csv");
      EXPECT_EQ(swept.exit_code, 0) << swept.err;
      EXPECT_NE(swept.out.find("removed ./" + temp), std::string::npos) << swept.out;
      EXPECT_NE(swept.out.find("temporary files: 1 removed, 0 being written"), std::string::npos)
          << swept.out;
    } else {
      const auto again = Run("export out.zcp --to csv -o back.csv -k key");
      EXPECT_EQ(again.exit_code, 0) << again.err;
      std::filesystem::remove(dir_ / "back.csv");
    }
    EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key", "out.zcp"}));
  }
}

}  // namespace
}  // namespace zcpipe::cli
