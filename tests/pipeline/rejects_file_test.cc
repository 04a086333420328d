// The rejects file of a quarantine import is as careful as the container (issue 22): 0600,
// published only by a job that succeeds, never over an existing file unless asked, and a
// failed write fails the job.
#include "rejects_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "file_names.h"
#include "file_size_limit.h"
#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using testing::FileSizeLimit;

constexpr fs::perms kOwnerReadWrite = fs::perms::owner_read | fs::perms::owner_write;

// Passes batches through, and fails the job on the third one.
class FailsOnTheThirdBatch final : public stages::Transform {
 public:
  stages::Schema OutputSchema(const stages::Schema& input) const override { return input; }
  stages::StageResult<stages::TransformOutput> Apply(const stages::BatchView& in,
                                                     std::span<std::byte> out,
                                                     stages::InputErrors& rejected) const override {
    if (++calls_ == 3) return stages::StageFail(stages::StageErrc::kIo, "the third batch");
    return copy_.Apply(in, out, rejected);
  }

 private:
  mutable std::atomic<int> calls_{0};
  stages::SelectTransform copy_{{"id", "name", "amount"}};
};

class RejectsFileTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }

  // `rows` rows of "id,name,amount"; every tenth has a bad amount, padded to `bad_width` bytes.
  fs::path WriteCsv(int rows, std::size_t bad_width = 8) const {
    const fs::path path = dir_ / "in.csv";
    std::ofstream out(path, std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < rows; ++i) {
      out << i << ",name-" << i << ",";
      if (i % 10 == 9) {
        out << "bad" << std::string(bad_width, 'x');
      } else {
        out << i % 1000;
      }
      out << '\n';
    }
    return path;
  }

  // A quarantine import of WriteCsv(rows, bad_width) into out.zcp, its rejects into
  // rejects.jsonl.
  JobConfig Config(int rows, std::size_t bad_width = 8) const {
    JobConfig config;
    config.input = WriteCsv(rows, bad_width);
    config.schema = stages::Schema::Parse("id:int64,name:string,amount:int64");
    config.output = dir_ / "out.zcp";
    config.credential = testing::TestKey(std::byte{3});
    config.on_error = ErrorPolicy::kQuarantine;
    config.rejects = dir_ / "rejects.jsonl";
    config.chunk_size = 16 << 10;
    config.arena_size = 2 << 20;
    config.threads = 2;
    return config;
  }

  std::vector<std::string> Files() const { return testing::FileNames(dir_); }

  std::string Read(const fs::path& path) const {
    std::stringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
  }

  const fs::path dir_ = testing::TestDir("rejects");
};

TEST_F(RejectsFileTest, AppendsAreWrittenAtFlushAndPublishedWhole) {
  auto file = detail::RejectsFile::Create(dir_ / "r.jsonl", false);
  ASSERT_TRUE(file) << stages::Describe(file.error());
  ASSERT_TRUE(file->Append("{\"line\":2}\n"));
  EXPECT_EQ(file->size(), 11u);
  EXPECT_EQ(fs::file_size(file->temp_path()), 0u);  // buffered
  ASSERT_TRUE(file->Flush());
  EXPECT_EQ(fs::file_size(file->temp_path()), 11u);
  ASSERT_TRUE(file->Append("{\"line\":3}\n"));
  ASSERT_TRUE(file->Publish());
  EXPECT_EQ(Read(dir_ / "r.jsonl"), "{\"line\":2}\n{\"line\":3}\n");
  EXPECT_EQ(fs::status(dir_ / "r.jsonl").permissions(), kOwnerReadWrite);
  EXPECT_EQ(Files(), std::vector<std::string>{"r.jsonl"});
}

TEST_F(RejectsFileTest, AFailedWriteFailsEveryCallAfterIt) {
  auto file = detail::RejectsFile::Create(dir_ / "r.jsonl", false);
  ASSERT_TRUE(file);
  const std::string line(1000, 'x');
  {
    FileSizeLimit limit(100 << 10);
    stages::ContainerStatus appended;
    for (int i = 0; i < 200 && appended; ++i) appended = file->Append(line + "\n");
    ASSERT_FALSE(appended);
    EXPECT_EQ(appended.error().code, stages::ContainerErrc::kIo);
    EXPECT_EQ(appended.error().sys_errno, EFBIG);
  }
  EXPECT_FALSE(file->Append("{}\n"));
  EXPECT_FALSE(file->Flush());
  EXPECT_FALSE(file->Publish());
  EXPECT_FALSE(fs::exists(dir_ / "r.jsonl"));
}

// Before: created with the umask's mode (0644) when the import started, and left, truncated or
// not, whatever became of the import.
TEST_F(RejectsFileTest, AQuarantineImportPublishesItsRejects0600OnlyWhenItSucceeds) {
  auto config = Config(20000);
  bool seen_before_the_end = false;
  config.on_progress = [&](const ProgressEvent& event) {
    if (!event.final) seen_before_the_end |= fs::exists(config.rejects);
  };
  const mode_t umask = ::umask(022);
  const Report report = zcpipe::Run(config);
  ::umask(umask);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << report.error->message;
  EXPECT_FALSE(seen_before_the_end);
  EXPECT_EQ(fs::status(config.rejects).permissions(), kOwnerReadWrite);
  const std::string rejects = Read(config.rejects);
  EXPECT_EQ(std::count(rejects.begin(), rejects.end(), '\n'), 2000);
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "out.zcp", "rejects.jsonl"}));
}

TEST_F(RejectsFileTest, AnExistingRejectsFileIsRefusedUnlessReplacing) {
  auto config = Config(1000);
  std::ofstream(config.rejects) << "precious";
  const Report refused = zcpipe::Run(config);
  ASSERT_EQ(refused.status, JobStatus::kFailed);
  EXPECT_EQ(refused.error->kind, ErrorKind::kInitialization);
  EXPECT_NE(refused.error->message.find("rejects.jsonl already exists"), std::string::npos)
      << refused.error->message;
  EXPECT_EQ(Read(config.rejects), "precious");
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "rejects.jsonl"}));

  config.replace_output = true;
  ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kSucceeded);
  EXPECT_NE(Read(config.rejects).find("\"line\":11,"), std::string::npos);
}

TEST_F(RejectsFileTest, AFailedImportLeavesAnExistingRejectsFileAsItWas) {
  auto config = Config(20000);
  config.replace_output = true;
  config.transform = std::make_shared<FailsOnTheThirdBatch>();
  std::ofstream(config.rejects) << "precious";
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kFailed);
  EXPECT_EQ(Read(config.rejects), "precious");
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "rejects.jsonl"}));
}

// Before: a write that failed (full disk) was not noticed; the file was cut mid-line and the
// import succeeded.
TEST_F(RejectsFileTest, AWriteThatFailsFailsTheImportAndPublishesNothing) {
  auto config = Config(4000, 10000);  // 400 rejected rows of over 10 KB: 4 MB of rejects
  config.output.clear();
  config.credential.reset();
  config.batch_sink = [](const stages::BatchView&) {};
  Report report;
  {
    FileSizeLimit limit(3 << 20);  // room for the 2 MiB arena in /dev/shm, not the rejects
    report = zcpipe::Run(config);
  }
  ASSERT_EQ(report.status, JobStatus::kFailed);
  EXPECT_EQ(report.error->kind, ErrorKind::kStage);
  EXPECT_EQ(report.error->stage, Stage::kWrite);
  EXPECT_NE(report.error->message.find(config.rejects.string() + ": i/o error"), std::string::npos)
      << report.error->message;
  EXPECT_NE(report.error->message.find("File too large"), std::string::npos)
      << report.error->message;
  EXPECT_EQ(Files(), std::vector<std::string>{"in.csv"});
}

}  // namespace
}  // namespace zcpipe
