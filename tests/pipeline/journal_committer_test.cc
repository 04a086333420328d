// JournalCommitter: a point handed to it reaches the journal from its thread, with where
// the container and the rejects file end then; a cancelled job's last point is kept for a
// resume, with the container's temporary file (issue 23: the committer's own class).
#include "journal_committer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "quarantine.h"
#include "scratch.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::detail {
namespace {

namespace fs = std::filesystem;

class JournalCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    auto writer = stages::ContainerWriter::Create(output_, *key_, {.schema = "s"});
    ASSERT_TRUE(writer.has_value());
    writer_.emplace(std::move(*writer));
    header_.input = "in.csv";
    header_.temp_path = writer_->temp_path().string();
    auto journal = Journal::Create(journal_path_, header_, {});
    ASSERT_TRUE(journal.has_value());
    journal_.emplace(std::move(*journal));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Up to line 11, byte 100, with 5 rows in.
  static JournalPoint Covered() {
    JournalPoint point;
    point.input_byte = 100;
    point.next_line = 11;
    point.chunks = 1;
    point.rows_in = 5;
    point.rows_out = 4;
    point.rows_rejected = 1;
    return point;
  }

  fs::path dir_ = testing::TestDir("committer");
  fs::path output_ = dir_ / "out.zcp";
  fs::path journal_path_ = Journal::PathFor(output_);
  std::shared_ptr<const stages::Credential> key_ = testing::TestKey();
  std::optional<stages::ContainerWriter> writer_;
  JournalHeader header_;
  std::optional<Journal> journal_;
};

TEST_F(JournalCommitterTest, ACommittedPointIsTheJournalsLastOnceStopped) {
  ASSERT_TRUE(writer_->Write({}, false).has_value());  // one frame
  JournalCommitter committer(std::move(*journal_), *writer_, nullptr, std::chrono::hours(1));
  EXPECT_FALSE(committer.Due());
  ASSERT_TRUE(committer.Commit(Covered()).has_value());
  // The committer's thread appends it after fsyncing the container (Stop would drop it).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto loaded = Journal::Load(journal_path_);
  while (loaded && loaded->second.input_byte == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    loaded = Journal::Load(journal_path_);
  }
  EXPECT_TRUE(committer.Stop());
  ASSERT_TRUE(loaded.has_value());
  const JournalPoint& point = loaded->second;
  EXPECT_EQ(point.input_byte, 100U);
  EXPECT_EQ(point.next_line, 11U);
  EXPECT_EQ(point.rows_in, 5U);
  EXPECT_EQ(point.rows_rejected, 1U);
  EXPECT_EQ(point.frames, 1U);  // where the container ends, filled in by the committer
  EXPECT_EQ(point.container_bytes, writer_->bytes_written());
  committer.Remove();
  EXPECT_FALSE(fs::exists(journal_path_));
}

TEST_F(JournalCommitterTest, ResumableRecordsTheRejectsFileAndKeepsTheTemporaryFiles) {
  const JobConfig config;
  auto opened = Quarantine::Open(JobErrors(1, config), dir_ / "rejects.jsonl", false, {}, 0);
  ASSERT_TRUE(opened.has_value());
  std::optional<Quarantine> quarantine(std::move(*opened));
  stages::InputError row{stages::InputErrc::kFieldCount, 3, 0, "", "", "a,b"};
  ASSERT_TRUE(quarantine->Append(row, stages::RawEcho::kAsRead).has_value());
  const fs::path rejects_temp = quarantine->temp_path();
  {
    JournalCommitter committer(std::move(*journal_), *writer_, &*quarantine, std::chrono::hours(1));
    ASSERT_TRUE(committer.Stop());
    ASSERT_TRUE(committer.KeepForResume(Covered()));
  }
  const auto loaded = Journal::Load(journal_path_);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->second.input_byte, 100U);
  EXPECT_EQ(loaded->second.rejects_bytes, quarantine->size());
  EXPECT_GT(loaded->second.rejects_bytes, 0U);
  const fs::path container_temp = writer_->temp_path();
  writer_.reset();
  quarantine.reset();  // destroyed: a kept file stays
  EXPECT_TRUE(fs::exists(container_temp));
  EXPECT_EQ(fs::file_size(rejects_temp), loaded->second.rejects_bytes);
}

}  // namespace
}  // namespace zcpipe::detail
