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
}

}  // namespace
}  // namespace zcpipe::cli
