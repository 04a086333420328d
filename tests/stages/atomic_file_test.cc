// AtomicFile: the mode of what it writes, and which temporary files a sweep may remove (issue 22:
// killed runs left their temporary files behind).
#include "zcpipe/stages/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "child_process.h"

namespace zcpipe::stages {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::LinePipe;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }

  // The names in the directory, sorted.
  std::set<std::string> Names() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.insert(entry.path().filename());
    return names;
  }

  // A child process that creates a temporary file of `final_path` and holds it (a live writer)
  // until it is killed; and that file.
  struct Writer {
    ChildProcess process;
    fs::path temp;
  };
  static Writer LiveWriter(const fs::path& final_path) {
    LinePipe pipe;
    ChildProcess process = ChildProcess::Fork([&] {
      auto file = AtomicFile::Create(final_path, false);
      if (!file) return 1;
      pipe.WriteLine(file->temp_path().string());
      for (;;) ::pause();
    });
    const auto temp = pipe.ReadLine();
    EXPECT_TRUE(temp);
    return {std::move(process), temp.value_or("")};
  }

  // The temporary file of a dead writer: a LiveWriter's, killed.
  static fs::path DeadWritersTemporary(const fs::path& final_path) {
    Writer writer = LiveWriter(final_path);
    writer.process.Kill(SIGKILL);
    EXPECT_TRUE(writer.process.Wait());
    return writer.temp;
  }

  static fs::perms Mode(const fs::path& path) { return fs::symlink_status(path).permissions(); }

  const fs::path dir_ =
      fs::temp_directory_path() / ("zcpipe-atomic-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

constexpr fs::perms kOwnerReadWrite = fs::perms::owner_read | fs::perms::owner_write;

TEST_F(AtomicFileTest, WritesMode0600WhateverTheUmask) {
  const mode_t before = ::umask(0277);  // mkostemp alone would make it 0400
  auto file = AtomicFile::Create(dir_ / "out.csv", false);
  ::umask(before);
  ASSERT_TRUE(file) << Describe(file.error());
  EXPECT_EQ(Mode(file->temp_path()), kOwnerReadWrite);
  ASSERT_TRUE(file->Commit());
  EXPECT_EQ(Mode(dir_ / "out.csv"), kOwnerReadWrite);
}

TEST_F(AtomicFileTest, CreateRemovesTheTemporaryFilesOfDeadWritersOnly) {
  const fs::path out = dir_ / "out.zcp";
  const fs::path dead = DeadWritersTemporary(out);
  ASSERT_TRUE(fs::exists(dead));
  EXPECT_TRUE(IsTemporaryOf(out, dead));
  EXPECT_EQ(Mode(dead), kOwnerReadWrite);

  // A live writer in another process, and names a sweep must never touch.
  const Writer live = LiveWriter(out);
  std::ofstream(dir_ / "victim") << "keep me";
  fs::create_symlink(dir_ / "victim", dir_ / ".out.zcp.tmp-Link01");  // a symlink named as one
  std::ofstream(dir_ / ".out.zcp.tmp-short") << "not six characters";
  std::ofstream(dir_ / ".other.zcp.tmp-Abc123") << "another output's";

  auto file = AtomicFile::Create(out, false);
  ASSERT_TRUE(file) << Describe(file.error());
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live.temp));
  EXPECT_EQ(Names(), (std::set<std::string>{live.temp.filename(), file->temp_path().filename(),
                                            "victim", ".out.zcp.tmp-Link01", ".out.zcp.tmp-short",
                                            ".other.zcp.tmp-Abc123"}));
  std::ifstream victim(dir_ / "victim");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(victim), {}), "keep me");
}

TEST_F(AtomicFileTest, SweepReportsLiveTemporaryFilesAndRemovesDeadOnes) {
  const fs::path out = dir_ / "back.jsonl";
  auto live = AtomicFile::Create(out, false);  // this process's: held, so live
  ASSERT_TRUE(live);
  const fs::path dead = DeadWritersTemporary(out);

  const auto preview = SweepTemporaries(out, /*dry_run=*/true);
  EXPECT_EQ(preview.removed, std::vector<fs::path>{dead});
  EXPECT_EQ(preview.live, std::vector<fs::path>{live->temp_path()});
  EXPECT_TRUE(fs::exists(dead));

  const auto sweep = SweepTemporaries(out);
  EXPECT_EQ(sweep.removed, std::vector<fs::path>{dead});
  EXPECT_EQ(sweep.live, std::vector<fs::path>{live->temp_path()});
  EXPECT_TRUE(sweep.failed.empty());
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live->temp_path()));
  EXPECT_TRUE(live->Commit());
}

// A journal names the temporary file to resume: one naming any other file must not make the
// import truncate it and rename it into place.
TEST_F(AtomicFileTest, ResumeTakesOnlyATemporaryFileOfTheSameOutputThatNoOneHolds) {
  const fs::path out = dir_ / "out.zcp";
  std::ofstream(dir_ / "notes.txt") << "precious";
  auto not_temporary = AtomicFile::Resume(out, dir_ / "notes.txt", false, 0);
  ASSERT_FALSE(not_temporary);
  EXPECT_EQ(not_temporary.error().code, ContainerErrc::kInvalidArgument);
  EXPECT_EQ(fs::file_size(dir_ / "notes.txt"), 8u);

  auto held = AtomicFile::Create(out, false);
  ASSERT_TRUE(held);
  ASSERT_TRUE(held->Write(std::as_bytes(std::span("0123456789", 10))));
  auto busy = AtomicFile::Resume(out, held->temp_path(), false, 4);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().sys_errno, EBUSY);
  EXPECT_EQ(fs::file_size(held->temp_path()), 10u);  // neither cut nor removed

  const fs::path temp = held->temp_path();
  held->Keep();  // as a job cancelled with resume does
  auto resumed = AtomicFile::Resume(out, temp, false, 4);
  ASSERT_TRUE(resumed) << Describe(resumed.error());
  EXPECT_EQ(resumed->size(), 4u);
  EXPECT_EQ(SweepTemporaries(out).live, std::vector<fs::path>{temp});  // held again
}

}  // namespace
}  // namespace zcpipe::stages
