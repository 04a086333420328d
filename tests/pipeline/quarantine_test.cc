// Quarantine: a rejected row becomes one line of the rejects file, published by the job; an
// existing rejects file is refused at set-up, naming it (issue 23: the quarantine's own class).
#include "quarantine.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scratch.h"

namespace zcpipe::detail {
namespace {

namespace fs = std::filesystem;

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_ = testing::TestDir("quarantine");
  fs::path path_ = dir_ / "rejects.jsonl";
  const JobConfig config_ = [this] {
    JobConfig config;
    config.input = dir_ / "in.csv";
    config.rejects = path_;
    return config;
  }();
  const JobErrors errors_{1, config_};
};

TEST_F(QuarantineTest, ARejectedRowIsOneLineOfThePublishedFile) {
  auto quarantine = Quarantine::Open(errors_, path_, false, {}, 0);
  ASSERT_TRUE(quarantine.has_value());
  const stages::InputError row{
      stages::InputErrc::kFieldCount, 3, 12, "", "3 fields, not 2", "a,b,c"};
  ASSERT_TRUE(quarantine->Append(row, stages::RawEcho::kAsRead).has_value());
  EXPECT_FALSE(fs::exists(path_));  // not before the job succeeds
  ASSERT_TRUE(quarantine->Publish().has_value());
  std::ifstream in(path_);
  std::stringstream read;
  read << in.rdbuf();
  const std::string text = read.str();
  EXPECT_EQ(text.find("{\"file\":\"" + (dir_ / "in.csv").string() + "\",\"line\":3,\"byte\":12"),
            0U)
      << text;
  EXPECT_NE(text.find("\"raw\":\"a,b,c\""), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
}

TEST_F(QuarantineTest, AnExistingFileIsRefusedAtSetUpNamingIt) {
  std::ofstream(path_) << "kept\n";
  auto quarantine = Quarantine::Open(errors_, path_, false, {}, 0);
  ASSERT_FALSE(quarantine.has_value());
  EXPECT_EQ(quarantine.error().kind, ErrorKind::kInitialization);
  EXPECT_EQ(quarantine.error().stage, Stage::kWrite);
  EXPECT_EQ(quarantine.error().message.find(path_.string() + ": "), 0U)
      << quarantine.error().message;
}

}  // namespace
}  // namespace zcpipe::detail
