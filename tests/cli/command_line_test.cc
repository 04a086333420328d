// The command line as a new user meets it: standard input, choices, mistyped commands,
// passphrases, exit codes and the options that do not fit together (issue 22).
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using CommandLine = CliTest;

TEST_F(CommandLine, ADashReadsTheInputFromAPipe) {
  WriteCsv("in.csv", 20'000);
  const auto run = testing::ZcpipeShell(
      "cat in.csv | \"$ZCPIPE_BIN\" run - -o out.zcp -k key --format csv --chunk-size 64KiB",
      dir_.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(Run("export out.zcp --to csv -o back.csv -k key").exit_code, 0);
  EXPECT_EQ(Read("back.csv"), Read("in.csv"));
}

TEST_F(CommandLine, ABadRowFromStandardInputIsNamedSo) {
  WriteCsv("in.csv", 100, /*bad_id=*/42);
  const auto run =
      Run("run - -o out.zcp -k key --format csv --schema id:int64,email,amount:float64 < in.csv");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_TRUE(Contains(run.err, "<stdin>:44:")) << run.err;
  const auto empty = Run("run - -o out.zcp -k key --format csv < /dev/null");
  EXPECT_EQ(empty.exit_code, 3);
  EXPECT_EQ(empty.err,
            "zcpipe: error: <stdin>: cannot infer a schema from an empty input: give one\n");
}

TEST_F(CommandLine, StandardInputNeedsAFormatAndToBeTheOnlyInput) {
  WriteCsv("in.csv", 10);
  const auto no_format = Run("run - -o out.zcp -k key < in.csv");
  EXPECT_EQ(no_format.exit_code, 2);
  EXPECT_TRUE(Contains(no_format.err, "--format")) << no_format.err;
  std::filesystem::create_directory(dir_ / "out");
  EXPECT_EQ(Run("run - in.csv -o out -k key --format csv < in.csv").exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));
}

TEST_F(CommandLine, ResumeWithAnInputThatCannotBeReadAgainIsAUsageError) {
  WriteCsv("in.csv", 10);
  const auto piped = testing::ZcpipeShell(
      "cat in.csv | \"$ZCPIPE_BIN\" run - -o out.zcp -k key --format csv --resume", dir_.string());
  EXPECT_EQ(piped.exit_code, 2);
  EXPECT_TRUE(Contains(piped.err, "resume")) << piped.err;
  const auto named = testing::ZcpipeShell(  // a pipe by a name
      "cat in.csv | \"$ZCPIPE_BIN\" run /dev/stdin -o out.zcp -k key --format csv --resume",
      dir_.string());
  EXPECT_EQ(named.exit_code, 2);
  EXPECT_TRUE(Contains(named.err, "/dev/stdin is not one")) << named.err;
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key"}));
}

// CLI11's transformer printed "Check skp value in {fail->" and stopped at a NUL byte.
TEST_F(CommandLine, AnInvalidChoiceListsTheValidOnes) {
  WriteCsv("in.csv", 10);
  const struct {
    std::string arguments, listed;
  } cases[] = {
      {"run in.csv -o o.zcp -k key --on-error skp", "'skp' is not one of: fail, quarantine, skip"},
      {"run in.csv -o o.zcp -k key --isolate --transport zerocopy",
       "'zerocopy' is not one of: copy, zero-copy"},
      {"run in.csv -o o.zcp -k key --format xml", "'xml' is not one of: auto, csv, jsonl"},
      {"run in.csv -o o.zcp -k key --progress 1", "'1' is not one of: auto, bar, json, none"},
      {"run in.csv -o o.zcp -k key --stats xml", "'xml' is not one of: json"},
      {"export o.zcp --to xml -o - -k key", "'xml' is not one of: csv, jsonl"},
  };
  for (const auto& [arguments, listed] : cases) {
    const auto run = Run(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments;
    EXPECT_TRUE(Contains(run.err, listed)) << arguments << ": " << run.err;
    EXPECT_FALSE(Contains(run.err, std::string(1, '\0'))) << arguments;
    EXPECT_FALSE(Contains(run.err, "\x01")) << arguments;
  }
}

TEST_F(CommandLine, AMistypedCommandSuggestsTheClosestOne) {
  const auto typo = Run("rn in.csv");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(Contains(typo.err, "did you mean 'run'?")) << typo.err;
  EXPECT_TRUE(Contains(Run("exprot x.zcp").err, "did you mean 'export'?"));
  const auto unknown = Run("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "the commands are: ")) << unknown.err;
}

TEST_F(CommandLine, APassphraseForANewContainerIsAskedTwiceAndAMismatchRefused) {
  WriteCsv("in.csv", 10);
  const auto mismatch = testing::ZcpipeAnswering(
      "run in.csv -o out.zcp --passphrase", dir_.string(), {"correct horse", "correct hoarse"});
  EXPECT_EQ(mismatch.exit_code, 3) << mismatch.out;
  EXPECT_TRUE(Contains(mismatch.out, "the passphrases differ")) << mismatch.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));

  const auto same = testing::ZcpipeAnswering("run in.csv -o out.zcp --passphrase", dir_.string(),
                                             {"correct horse", "correct horse"});
  ASSERT_EQ(same.exit_code, 0) << same.out;
  // Opening a container asks once.
  const auto opened = testing::ZcpipeAnswering("export out.zcp --to csv -o back.csv --passphrase",
                                               dir_.string(), {"correct horse"});
  EXPECT_EQ(opened.exit_code, 0) << opened.out;
  EXPECT_EQ(Read("back.csv"), Read("in.csv"));
}

TEST_F(CommandLine, OptionsThatWouldBeIgnoredAreRefusedSayingWhatToAdd) {
  WriteCsv("in.csv", 10);
  const auto rejects = Run("run in.csv -o o.zcp -k key --rejects r.jsonl");
  EXPECT_EQ(rejects.exit_code, 2);
  EXPECT_TRUE(Contains(rejects.err, "--on-error quarantine")) << rejects.err;
  const auto workers = Run("run in.csv -o o.zcp -k key --workers 3");
  EXPECT_EQ(workers.exit_code, 2);
  EXPECT_TRUE(Contains(workers.err, "--isolate")) << workers.err;
  EXPECT_EQ(Run("run in.csv -o o.zcp -k key --transport copy").exit_code, 2);
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key"}));
}

TEST_F(CommandLine, LimitsAreRefusedUpFrontAsUsageErrors) {
  WriteCsv("in.csv", 10);
  const auto chunk = Run("run in.csv -o o.zcp -k key --chunk-size 64MiB --arena 1GiB");
  EXPECT_EQ(chunk.exit_code, 2);
  EXPECT_TRUE(Contains(chunk.err, "chunk size above 32 MiB")) << chunk.err;
  const auto workers = Run("run in.csv -o o.zcp -k key --isolate --workers 100000");
  EXPECT_EQ(workers.exit_code, 2);
  EXPECT_TRUE(Contains(workers.err, "lower --workers")) << workers.err;
  WriteCsv("b.csv", 10);
  std::filesystem::create_directory(dir_ / "out");
  const auto jobs = Run("run in.csv b.csv -o out -k key --isolate --workers 100 --jobs 2");
  EXPECT_EQ(jobs.exit_code, 2);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "out"));
}

// Issue 22: the same full disk gave 1 for a large import and 3 for a small one, export or keygen.
TEST_F(CommandLine, AFullDiskIsTheSameExitCodeForEveryCommandAndSize) {
  if (testing::ZcpipeShell("unshare -rm true", dir_.string()).exit_code != 0) {
    GTEST_SKIP() << "cannot make a mount namespace for a small tmpfs";
  }
  WriteCsv("small.csv", 10);
  WriteCsv("large.csv", 20'000);
  ASSERT_EQ(Run("run large.csv -o large.zcp -k key").exit_code, 0);
  std::filesystem::create_directory(dir_ / "full");
  // A 64 KiB file system that "$FILL" first fills up, then the command.
  const auto on_full_disk = [this](const std::string& command, bool fill) {
    const std::string setup = "mount -t tmpfs -o size=64k none full && " +
                              std::string(fill ? "(cat large.csv > full/fill || true) && " : "");
    return testing::ZcpipeShell("unshare -rm sh -c '" + setup + command + "'", dir_.string());
  };
  const std::string bin = "\"$ZCPIPE_BIN\" ";
  for (const bool fill : {false, true}) {
    const std::string commands[] = {
        bin + "run small.csv -o full/small.zcp -k key",
        bin + "run large.csv -o full/large.zcp -k key",
        bin + "export large.zcp --to csv -o full/back.csv -k key",
        bin + "export large.zcp --to csv -o - -k key > full/back.csv",
        bin + "keygen -o full/key",
    };
    for (const auto& command : commands) {
      if (!fill && command.find("small") != std::string::npos) continue;  // it fits
      if (!fill && command.find("keygen") != std::string::npos) continue;
      const auto result = on_full_disk(command, fill);
      EXPECT_EQ(result.exit_code, 1) << command << (fill ? " (full)" : "") << ": " << result.err;
      EXPECT_TRUE(Contains(result.err, "No space left on device")) << command << ": " << result.err;
    }
  }
}

TEST_F(CommandLine, AnOutputThatAnotherRunCreatedMeanwhileIsAnInputError) {
  WriteCsv("in.csv", 200'000);
  const auto run =
      StopEarly("run in.csv -o out.zcp -k key --progress json --chunk-size 64KiB --arena 1MiB",
                dir_, "{", dir_ / "out.zcp", std::filesystem::file_size(dir_ / "in.csv") / 2);
  ASSERT_TRUE(run) << "the import was never stopped early";
  std::ofstream(dir_ / "out.zcp") << "another run's";
  run->Continue();
  std::string err;
  while (auto line = run->ReadErrLine()) err += *line + "\n";
  EXPECT_EQ(run->Wait(), 3) << err;
  EXPECT_TRUE(Contains(err, "out.zcp already exists")) << err;
  EXPECT_EQ(Read("out.zcp"), "another run's");
}

// Issue 22: "shared memory: system error: Bad address", or SIGBUS.
TEST_F(CommandLine, ASharedMemoryTooSmallSaysWhatFailedHowMuchAndWhatToDo) {
  if (testing::ZcpipeShell("unshare -rm true", dir_.string()).exit_code != 0) {
    GTEST_SKIP() << "cannot make a mount namespace for a small /dev/shm";
  }
  WriteCsv("in.csv", 1000);
  for (const std::string placement : {"", " --isolate"}) {
    const auto run = testing::ZcpipeShell(
        "unshare -rm sh -c 'mount -t tmpfs -o size=4m none /dev/shm && \"$ZCPIPE_BIN\" run in.csv "
        "-o out.zcp -k key --arena 64MiB" +
            placement + "'",
        dir_.string());
    EXPECT_EQ(run.exit_code, 1) << placement;
    // Workers' rings may take some of the 4 MiB first.
    for (const char* part : {"cannot create the arena of 64.0 MiB in /dev/shm (", " MiB free)",
                             "--arena", "--shm-size"}) {
      EXPECT_TRUE(Contains(run.err, part)) << placement << ": " << run.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));
  }
}

}  // namespace
}  // namespace zcpipe::cli
