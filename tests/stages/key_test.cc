#include "zcpipe/stages/key.h"

#include <sys/stat.h>
#include <type_traits>

#include <gtest/gtest.h>

#include "container_test_util.h"

namespace zcpipe::stages {
namespace {

using namespace container_testing;  // NOLINT(google-build-using-namespace)

static_assert(!std::is_copy_constructible_v<SecretBytes> &&
              !std::is_copy_assignable_v<SecretBytes>);
static_assert(!std::is_copy_constructible_v<FileKey> && !std::is_copy_assignable_v<FileKey>);
static_assert(!std::is_copy_constructible_v<Credential>);
static_assert(std::is_nothrow_move_constructible_v<FileKey>);

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

TEST(ContainerKey, SecretBytesMoveHandsOverTheBufferAndEmptiesTheSource) {
  auto secret = SecretBytes::CopyOf(ToBytes("secret"));
  const std::byte* data = secret.span().data();
  SecretBytes moved(std::move(secret));
  EXPECT_EQ(moved.span().data(), data);  // no second copy anywhere
  EXPECT_EQ(ToString(moved.span()), "secret");
  EXPECT_TRUE(secret.empty());  // NOLINT(bugprone-use-after-move): the documented state
  SecretBytes assigned(4);
  assigned = std::move(moved);
  EXPECT_EQ(ToString(assigned.span()), "secret");
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(ContainerKey, AFileKeyIsExactly32Bytes) {
  ASSERT_ERRC(FileKey::FromBytes(Bytes(31)), ContainerErrc::kInvalidArgument);
  ASSERT_ERRC(FileKey::FromBytes(Bytes(33)), ContainerErrc::kInvalidArgument);
  auto key = FileKey::FromBytes(Bytes(32, std::byte{7}));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->bytes().size(), 32u);
  FileKey moved = std::move(*key);
  EXPECT_TRUE(key->bytes().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.bytes()[31], std::byte{7});
}

TEST(ContainerKey, GeneratedKeysDiffer) {
  auto a = FileKey::Generate();
  auto b = FileKey::Generate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(ToString(a->bytes()), ToString(b->bytes()));
}

TEST(ContainerKey, GenerateKeyFileWritesAnOwnerOnlyKeyThatReadsBack) {
  ScratchDir dir;
  const auto path = dir / "import.key";
  auto written = GenerateKeyFile(path);
  ASSERT_TRUE(written) << Describe(written.error());
  EXPECT_EQ(std::filesystem::file_size(path), 32u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"import.key"});  // no temporary left
  std::string warning = "stale";
  auto read = ReadKeyFile(path, {}, &warning);
  ASSERT_TRUE(read) << Describe(read.error());
  EXPECT_EQ(ToString(read->bytes()), ToString(written->bytes()));
  EXPECT_EQ(warning, "");
}

TEST(ContainerKey, GenerateKeyFileNeverOverwrites) {
  ScratchDir dir;
  const auto path = dir / "import.key";
  WriteBytes(path, ToBytes("not a key, but mine"));
  ASSERT_ERRC(GenerateKeyFile(path), ContainerErrc::kAlreadyExists);
  EXPECT_EQ(ToString(ReadBytes(path)), "not a key, but mine");

  const auto link = dir / "dangling.key";
  std::filesystem::create_symlink(dir / "nowhere", link);
  ASSERT_ERRC(GenerateKeyFile(link), ContainerErrc::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(dir / "nowhere"));
  EXPECT_EQ(dir.Entries(), (std::vector<std::string>{"dangling.key", "import.key"}));
}

// Issue 24: a key file that group or others can read only warned (0644 imported with exit 0).
TEST(ContainerKey, AKeyFileAccessibleByGroupOrOthersIsRefusedUnlessAllowed) {
  ScratchDir dir;
  const auto path = dir / "loose.key";
  ASSERT_TRUE(GenerateKeyFile(path));
  for (const ::mode_t mode : {0640, 0604, 0620, 0644}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto refused = ReadKeyFile(path);
    ASSERT_ERRC(refused, ContainerErrc::kBadKeyFile) << mode;
    EXPECT_NE(refused.error().message.find("chmod 600"), std::string::npos);
    std::string warning;
    auto allowed = ReadKeyFile(path, {.allow_insecure_mode = true}, &warning);
    ASSERT_TRUE(allowed) << Describe(allowed.error());
    EXPECT_NE(warning.find("chmod 600"), std::string::npos) << warning;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  std::string warning;
  ASSERT_TRUE(ReadKeyFile(path, {.allow_insecure_mode = true}, &warning));
  EXPECT_NE(warning.find("0644"), std::string::npos) << warning;
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadKeyFile(path));  // owner only, read-only: fine
}

TEST(ContainerKey, AKeyFileOfAnyOtherSizeIsRejected) {
  ScratchDir dir;
  for (std::size_t size : {0, 16, 31, 33, 64}) {
    const auto path = dir / ("k" + std::to_string(size));
    WriteBytes(path, Bytes(size, std::byte{1}));
    ASSERT_ERRC(ReadKeyFile(path), ContainerErrc::kBadKeyFile) << size;
  }
  const auto newline = dir / "newline.key";  // 32 bytes and a newline: a common mistake
  WriteBytes(newline, ToBytes(std::string(32, 'k') + "\n"));
  ASSERT_ERRC(ReadKeyFile(newline), ContainerErrc::kBadKeyFile);
  ASSERT_ERRC(ReadKeyFile(dir.path()), ContainerErrc::kBadKeyFile);  // a directory
  auto missing = ReadKeyFile(dir / "missing.key");
  ASSERT_ERRC(missing, ContainerErrc::kIo);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
}

TEST(ContainerKey, ScryptCapsAreInclusive) {
  EXPECT_TRUE(WithinScryptCaps({15, 8, 1}));
  EXPECT_TRUE(WithinScryptCaps({20, 8, 1}));   // exactly 1 GiB
  EXPECT_FALSE(WithinScryptCaps({20, 8, 2}));  // 2 GiB
  EXPECT_FALSE(WithinScryptCaps({21, 1, 1}));
  EXPECT_TRUE(WithinScryptCaps({10, 32, 16}));
  EXPECT_FALSE(WithinScryptCaps({10, 33, 1}));
  EXPECT_FALSE(WithinScryptCaps({10, 8, 17}));
  EXPECT_FALSE(WithinScryptCaps({0xffffffff, 0xffffffff, 0xffffffff}));
}

TEST(ContainerKey, ACredentialKeepsItsOwnCopyOfTheSecret) {
  std::string passphrase = "hunter2";
  auto credential = Credential::FromPassphrase(passphrase, {4, 8, 1});
  passphrase.assign(passphrase.size(), '*');
  EXPECT_EQ(credential.source(), KeySource::kPassphrase);
  EXPECT_EQ(ToString(credential.secret()), "hunter2");
  EXPECT_EQ(credential.scrypt(), (ScryptParams{4, 8, 1}));
  auto raw = Credential::FromKey(TestKey(3));
  EXPECT_EQ(raw.source(), KeySource::kRawKey);
  EXPECT_EQ(raw.secret().size(), 32u);
}

}  // namespace
}  // namespace zcpipe::stages
