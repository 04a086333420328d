#include <fstream>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using VerifyCommand = CliTest;

TEST_F(VerifyCommand, AcceptsAnIntactContainerAndTellsDamageFromAWrongKey) {
  ImportCsv(1000);
  const auto ok = Run("verify out.zcp -k key");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("out.zcp: ok, 2 chunks"), std::string::npos) << ok.out;

  ASSERT_EQ(Run("keygen -o other").exit_code, 0);
  const auto wrong_key = Run("verify out.zcp -k other");
  EXPECT_EQ(wrong_key.exit_code, 3);
  EXPECT_NE(wrong_key.err.find("zcpipe: error: out.zcp: wrong key"), std::string::npos)
      << wrong_key.err;

  std::filesystem::copy_file(dir_ / "out.zcp", dir_ / "bad.zcp");
  {
    std::fstream file(dir_ / "bad.zcp", std::ios::in | std::ios::out | std::ios::binary);
    // Inside the first chunk's ciphertext. Flip the byte: writing a fixed one leaves the file
    // intact whenever the random ciphertext already holds it (1 run in 256).
    file.seekg(-40, std::ios::end);
    const char byte = static_cast<char>(file.get() ^ 0x01);
    file.seekp(-40, std::ios::end);
    file.put(byte);
  }
  const auto tampered = Run("verify bad.zcp -k key");
  EXPECT_EQ(tampered.exit_code, 4);
  EXPECT_NE(tampered.err.find("zcpipe: error: bad.zcp: tampered chunk (chunk 0"), std::string::npos)
      << tampered.err;
}

TEST_F(VerifyCommand, NeedsExactlyOneWayToGetTheKey) {
  EXPECT_EQ(Run("verify out.zcp").exit_code, 2);
  EXPECT_EQ(Run("verify out.zcp -k key --passphrase").exit_code, 2);
}

}  // namespace
}  // namespace zcpipe::cli
