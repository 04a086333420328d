// Issue 25: real-world value shapes (tests/data/real/README.md) import with default flags and
// export value for value: a date stays a date, a local time stays local, an offset is kept as
// the same instant, a code keeps its leading zeros; in process and isolated alike.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using RealCorpus = CliTest;

const std::filesystem::path kCorpus = std::filesystem::path(ZCPIPE_TEST_DATA) / "real";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The corpus's inputs: every file but the expectations and the README.
std::vector<std::filesystem::path> Inputs() {
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    const auto extension = entry.path().extension();
    if (extension == ".csv" || extension == ".jsonl") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

// The schema line of `zcpipe inspect`'s output.
std::string SchemaOf(const std::string& inspect) {
  const std::string label = "schema:";
  const auto at = inspect.find(label);
  if (at == std::string::npos) return "";
  const auto begin = inspect.find_first_not_of(' ', at + label.size());
  return inspect.substr(begin, inspect.find('\n', begin) - begin);
}

TEST_F(RealCorpus, EveryFileImportsWithDefaultFlagsAndExportsValueForValue) {
  const auto inputs = Inputs();
  ASSERT_GE(inputs.size(), 9u) << kCorpus;
  for (const auto& input : inputs) {
    const std::string format = input.extension().string().substr(1);
    for (const std::string placement : {"", " --isolate"}) {
      const std::string what = input.filename().string() + placement;
      const auto run = Run("run " + input.string() + " -o out.zcp -k key --force" + placement);
      ASSERT_EQ(run.exit_code, 0) << what << ": " << run.err;
      EXPECT_EQ(SchemaOf(Run("inspect out.zcp").out) + "\n", ReadFile(input.string() + ".schema"))
          << what;
      const auto back = Run("export out.zcp --to " + format + " -o - -k key");
      ASSERT_EQ(back.exit_code, 0) << what << ": " << back.err;
      EXPECT_EQ(back.out, ReadFile(input.string() + ".expected")) << what;
    }
  }
}

// The exported file imports again into the same types and exports byte for byte the same: the
// canonical forms are fixed points (a local time never gains a zone on the way).
TEST_F(RealCorpus, AnExportImportsAgainIntoTheSameTypesAndValues) {
  for (const auto& input : Inputs()) {
    const std::string format = input.extension().string().substr(1);
    const std::string what = input.filename().string();
    std::filesystem::copy_file(input.string() + ".expected", dir_ / ("again." + format),
                               std::filesystem::copy_options::overwrite_existing);
    ASSERT_EQ(Run("run again." + format + " -o again.zcp -k key --force").exit_code, 0) << what;
    EXPECT_EQ(SchemaOf(Run("inspect again.zcp").out) + "\n", ReadFile(input.string() + ".schema"))
        << what;
    EXPECT_EQ(Run("export again.zcp --to " + format + " -o - -k key").out,
              ReadFile(input.string() + ".expected"))
        << what;
  }
}

// docs/format.md: the column types were appended to, so a container written before dates and
// local times existed (its every time column a timestamp) exports exactly as it did then.
TEST_F(RealCorpus, AContainerWrittenBeforeDatesExportsAsItDidThen) {
  const auto compat = std::filesystem::path(ZCPIPE_TEST_DATA) / "compat";
  std::filesystem::copy_file(compat / "timestamps_v1.key", dir_ / "old.key");
  std::filesystem::permissions(dir_ / "old.key", std::filesystem::perms::owner_read);
  const auto back =
      Run("export " + (compat / "timestamps_v1.zcp").string() + " --to csv -o - -k old.key");
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(back.out, ReadFile(compat / "timestamps_v1.zcp.expected"));
}

}  // namespace
}  // namespace zcpipe::cli
