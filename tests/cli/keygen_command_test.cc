#include <sys/stat.h>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using KeygenCommand = CliTest;

TEST_F(KeygenCommand, WritesA32ByteKeyReadableByTheOwnerOnly) {
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, 32);
  ASSERT_EQ(Run("keygen -o other").exit_code, 0);
  EXPECT_NE(Read("key"), Read("other"));
}

TEST_F(KeygenCommand, RefusesToOverwriteAndLeavesTheFileAlone) {
  const std::string before = Read("key");
  const auto again = Run("keygen -o key");
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_NE(again.err.find("zcpipe: error: "), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(Read("key"), before);
}

}  // namespace
}  // namespace zcpipe::cli
