// Key files on the command line: who may read them, and one key never doing two jobs (issue 24).
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using KeyOptions = CliTest;

TEST_F(KeyOptions, AKeyFileOthersCanReadIsRefusedUnlessAllowed) {
  WriteCsv("in.csv", 10);
  ASSERT_EQ(Run("keygen -o hash.key").exit_code, 0);
  ASSERT_EQ(::chmod((dir_ / "key").c_str(), 0644), 0);
  const auto refused = Run("run in.csv -o out.zcp -k key");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_TRUE(Contains(refused.err, "chmod 600")) << refused.err;
  EXPECT_TRUE(Contains(refused.err, "--allow-insecure-key-file")) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));

  const auto allowed = Run("run in.csv -o out.zcp -k key --allow-insecure-key-file");
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_TRUE(Contains(allowed.err, "warning")) << allowed.err;
  EXPECT_EQ(Run("verify out.zcp -k key").exit_code, 3);  // export and verify check it too
  EXPECT_EQ(Run("verify out.zcp -k key --allow-insecure-key-file").exit_code, 0);

  // The hash key file was not checked at all.
  ASSERT_EQ(::chmod((dir_ / "key").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((dir_ / "hash.key").c_str(), 0640), 0);
  const auto hash = Run("run in.csv -o h.zcp -k key --hash email --hash-key-file hash.key");
  EXPECT_EQ(hash.exit_code, 2);
  EXPECT_TRUE(Contains(hash.err, "hash.key")) << hash.err;
  EXPECT_TRUE(Contains(hash.err, "chmod 600")) << hash.err;
  EXPECT_EQ(Run("run in.csv -o h.zcp -k key --hash email --hash-key-file hash.key "
                "--allow-insecure-key-file")
                .exit_code,
            0);
}

// Issue 24: bench/README.md used one file for both; the hash key then decrypts the container.
TEST_F(KeyOptions, TheHashKeyCannotBeTheContainersKey) {
  WriteCsv("in.csv", 10);
  const auto same = Run("run in.csv -o out.zcp -k key --hash email --hash-key-file key");
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_TRUE(Contains(same.err, "hash key is the container's key")) << same.err;
  std::filesystem::copy_file(dir_ / "key", dir_ / "copy.key");  // the same bytes, another file
  EXPECT_EQ(Run("run in.csv -o out.zcp -k key --hash email --hash-key-file copy.key").exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));
  ASSERT_EQ(Run("keygen -o hash.key").exit_code, 0);
  EXPECT_EQ(Run("run in.csv -o out.zcp -k key --hash email --hash-key-file hash.key").exit_code, 0);
}

// Issue 24: the scrypt cap (1 GiB) was fixed; a reader now sets its own limit, 256 MiB by default.
TEST_F(KeyOptions, MaxKdfMemoryLimitsWhatOpeningAContainerMayCost) {
  WriteCsv("in.csv", 10);
  std::ofstream(dir_ / "pass.txt") << "correct horse\n";
  ASSERT_EQ(Run("run in.csv -o out.zcp --passphrase-fd 3 3<pass.txt").exit_code, 0);  // 32 MiB
  const auto refused = Run("verify out.zcp --passphrase-fd 3 3<pass.txt --max-kdf-memory 16MiB");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_TRUE(Contains(refused.err, "above this reader's limit of 16 MiB")) << refused.err;
  EXPECT_EQ(Run("export out.zcp --to csv -o - --passphrase-fd 3 3<pass.txt --max-kdf-memory 16MiB")
                .exit_code,
            3);
  EXPECT_EQ(Run("verify out.zcp --passphrase-fd 3 3<pass.txt --max-kdf-memory 32MiB").exit_code, 0);
  EXPECT_EQ(Run("verify out.zcp --passphrase-fd 3 3<pass.txt").exit_code, 0);
}

}  // namespace
}  // namespace zcpipe::cli
