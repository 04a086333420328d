#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "cli_test_fixture.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::cli {
namespace {

using RunCommand = CliTest;

// Calls `visit` with each line of `text` parsed as a JSON object (valid during the call only);
// fails the test for a line that is not one. Returns the number of lines.
std::size_t ForEachJsonLine(const std::string& text,
                            const std::function<void(simdjson::dom::object)>& visit) {
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  EXPECT_EQ(parser.parse_many(text).get(stream), simdjson::SUCCESS);
  std::size_t lines = 0;
  for (auto document : stream) {
    simdjson::dom::object object;
    EXPECT_EQ(document.get(object), simdjson::SUCCESS) << text;
    visit(object);
    ++lines;
  }
  return lines;
}

TEST_F(RunCommand, ImportsAFileThatExportsBackTheSameRows) {
  const std::string input = WriteCsv("in.csv", 5000);
  const auto run = Run("run in.csv -o out.zcp -k key --chunk-size 16KiB --arena 1MiB");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");  // no terminal: no progress bar
  ASSERT_EQ(Run("export out.zcp --to csv -o back.csv -k key").exit_code, 0);
  EXPECT_EQ(Read("back.csv"), Read(input));
  EXPECT_EQ(Files(), (std::vector<std::string>{"back.csv", "in.csv", "key", "out.zcp"}));
}

TEST_F(RunCommand, IsolationOptionsAreAcceptedAndKeepTheOutput) {
  WriteCsv("in.csv", 3000);
  const auto run = Run("run in.csv -o out.zcp -k key --isolate --workers 2 --transport copy");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(Run("export out.zcp --to csv -o back.csv -k key").exit_code, 0);
  EXPECT_EQ(Read("back.csv"), Read("in.csv"));
  EXPECT_EQ(Run("run in.csv -o x.zcp -k key --transport pigeon").exit_code, 2);
}

TEST_F(RunCommand, AppliesTransformsInCommandLineOrder) {
  WriteCsv("in.csv", 100);
  const auto run =
      Run("run in.csv -o out.zcp -k key --rename amount:price --filter 'price >= 98' "
          "--select price,id --cast id:string");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Run("export out.zcp --to jsonl -o - -k key").out,
            "{\"price\":98.5,\"id\":\"98\"}\n{\"price\":99.5,\"id\":\"99\"}\n");
  const auto unknown = Run("run in.csv -o x.zcp -k key --select nope");  // known once read
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("nope"), std::string::npos) << unknown.err;
  EXPECT_EQ(Run("run in.csv -o x.zcp -k key --hash email").exit_code, 2);  // no hash key
}

// Issue 22: hashing the narrow columns of scripts/gen-orders' rows (64 characters a value)
// failed every import with "batch needs up to N bytes, the block has M".
TEST_F(RunCommand, AHashThatWidensEveryBatchImportsInProcessAndIsolated) {
  {
    std::ofstream out(dir_ / "orders.csv", std::ios::binary);
    out << "id,customer,email,amount,paid\n";
    for (int i = 0; i < 60'000; ++i) {
      out << i << ",customer " << i % 977 << ",user" << i << "@example.com," << i % 5000 << "."
          << i % 100 / 10 << i % 10 << "," << (i % 3 != 0 ? "true" : "false") << "\n";
    }
  }
  ASSERT_EQ(Run("keygen -o hk.key").exit_code, 0);
  std::string exported;
  for (const std::string placement : {"", " --isolate", " --isolate --transport copy"}) {
    SCOPED_TRACE(placement);
    const auto run =
        Run("run orders.csv -o h.zcp -f -k key --hash customer,email,paid "
            "--hash-key-file hk.key --stats json" +
            placement);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("\"rows_out\":60000,"), std::string::npos) << run.out;
    const auto back = Run("export h.zcp --to csv -o - -k key");
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_EQ(std::count(back.out.begin(), back.out.end(), '\n'), 60'001);
    if (exported.empty()) exported = back.out;
    EXPECT_TRUE(back.out == exported) << "the placements differ";
  }
}

TEST_F(RunCommand, ABadRowFailsWithItsFileAndLineAndNoOutput) {
  WriteCsv("in.csv", 3000, /*bad_id=*/2500);
  const auto run =
      Run("run in.csv -o out.zcp -k key --chunk-size 16KiB --arena 1MiB "
          "--schema id:int64,email,amount:float64");
  EXPECT_EQ(run.exit_code, 3);
  // Line 2502: the header is line 1, id 0 line 2.
  EXPECT_NE(run.err.find("zcpipe: error: in.csv:2502: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("bad float64 in column 'amount': \"oops\""), std::string::npos) << run.err;
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key"}));
}

TEST_F(RunCommand, QuarantinesBadRowsAndCountsThemInTheStats) {
  WriteCsv("in.csv", 3000, /*bad_id=*/7);
  const auto run =
      Run("run in.csv -o out.zcp -k key --on-error quarantine --rejects rejects.jsonl "
          "--schema id:int64,email,amount:float64 --stats json");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("in.csv:9: "), std::string::npos) << run.err;
  EXPECT_NE(Read("rejects.jsonl").find(R"("line":9,)"), std::string::npos);
  const auto lines = ForEachJsonLine(run.out, [](simdjson::dom::object stats) {
    EXPECT_EQ(std::string_view(stats["status"]), "succeeded");
    EXPECT_EQ(std::uint64_t(stats["rows_in"]), 3000u);
    EXPECT_EQ(std::uint64_t(stats["rows_out"]), 2999u);
    EXPECT_EQ(std::uint64_t(stats["rows_rejected"]), 1u);
    EXPECT_EQ(std::uint64_t(stats["bytes_copied_between_stages"]), 0u);
    EXPECT_GT(double(stats["stage_seconds"]["parse"]), 0.0);
  });
  EXPECT_EQ(lines, 1u) << run.out;
  EXPECT_EQ(Run("run in.csv -o o.zcp -k key --on-error quarantine").exit_code, 2);
}

// issue 22: a rejected row showed its hashed and masked columns in clear, in the rejects file
// and on stderr. Now they show only as the container holds them, in both placements.
TEST_F(RunCommand, RejectedRowsShowNoPlaintextOfHashedOrMaskedColumns) {
  ASSERT_EQ(Run("keygen -o hash.key").exit_code, 0);
  const std::string email = "bob.secret@example.com", card = "4111111111111111";
  // The first bad row of each shows a card number in its detail, the others only in the row.
  std::ofstream(dir_ / "in.csv", std::ios::binary)
      << "id,email,amount,card\n"
      << "1," << email << ",1.5," << card << "\n"
      << "2," << email << ",2.5,\xff" << card << "\n"    // not UTF-8
      << "3," << email << ",oops," << card << "\n"       // a bad value in another column
      << "4," << email << ",2.5\n"                       // a field missing
      << "5,\"" << email << "\"x,2.5," << card << "\n";  // text after a quoted field
  std::ofstream(dir_ / "in.jsonl", std::ios::binary)
      << R"({"id":1,"email":")" << email << R"(","amount":1.5,"card":")" << card << "\"}\n"
      << R"({"id":2,"email":")" << email << R"(","card":")" << card << "\\q\"}\n"  // bad escape
      << R"({"id":3,"email":")" << email << R"(","amount":"oops","card":")" << card << "\"}\n"
      << R"({"id":4,"email":")" << email << "\n";  // not JSON
  const std::string options =
      " -k key --hash email --hash-key-file hash.key --mask card:keep_last=4 "
      "--schema id:int64,email,amount:float64,card --progress json --stats json";
  int run_number = 0;
  for (const std::string input : {"in.csv", "in.jsonl"}) {
    for (const std::string placement : {"", " --isolate"}) {
      SCOPED_TRACE(input + placement);
      const std::string n = std::to_string(++run_number);
      const auto run =
          Run("run " + input + " -o out" + n + ".zcp --on-error quarantine --rejects rejects" + n +
              ".jsonl --trace trace" + n + ".json" + options + placement);
      ASSERT_EQ(run.exit_code, 0) << run.err;
      const auto failed = Run("run " + input + " -o failed.zcp" + options + placement);
      EXPECT_EQ(failed.exit_code, 3) << failed.err;
      for (const auto& secret : {email, card}) {
        EXPECT_EQ(run.out.find(secret), std::string::npos) << run.out;
        EXPECT_EQ(run.err.find(secret), std::string::npos) << run.err;
        EXPECT_EQ(failed.err.find(secret), std::string::npos) << failed.err;
        for (const auto& file : Files()) {
          if (!file.starts_with("in.")) {
            EXPECT_EQ(Read(file).find(secret), std::string::npos) << file << ": " << Read(file);
          }
        }
      }
      // The hash in the rejects file is the container's for the same address: they join.
      std::string held;
      ForEachJsonLine(Run("export out" + n + ".zcp --to jsonl -o - -k key").out,
                      [&](simdjson::dom::object row) {
                        if (std::int64_t(row["id"]) == 1) held = std::string_view(row["email"]);
                      });
      ASSERT_EQ(held.size(), 64u);
      std::size_t joined = 0;
      const auto lines = ForEachJsonLine(Read("rejects" + n + ".jsonl"), [&](auto rejected) {
        std::string_view raw;
        joined += rejected["raw"].get(raw) == simdjson::SUCCESS &&
                  raw.find(held) != std::string_view::npos;
      });
      EXPECT_EQ(lines, input == "in.csv" ? 4u : 3u);
      EXPECT_EQ(joined, input == "in.csv" ? 2u : 1u);  // the rows that split into their fields
    }
  }
}

TEST_F(RunCommand, ProgressJsonIsOneObjectPerLineTaggedWithTheJob) {
  WriteCsv("a.csv", 4000);
  WriteCsv("b.csv", 3000);
  std::filesystem::create_directory(dir_ / "out");
  const auto run =
      Run("run a.csv b.csv -o out -k key --progress json --chunk-size 16KiB "
          "--arena 1MiB");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::map<std::string, std::uint64_t> final_rows;
  std::set<std::uint64_t> jobs;
  ForEachJsonLine(run.err, [&](simdjson::dom::object event) {
    jobs.insert(std::uint64_t(event["job"]));
    if (bool(event["final"])) {
      final_rows[std::string(std::string_view(event["input"]))] = std::uint64_t(event["rows_out"]);
    }
  });
  EXPECT_EQ(jobs.size(), 2u);
  EXPECT_EQ(final_rows, (std::map<std::string, std::uint64_t>{{"a.csv", 4000}, {"b.csv", 3000}}));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "a.zcp"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "b.zcp"));
  EXPECT_EQ(Run("run a.csv b.csv -o a.zcp -k key").exit_code, 2);  // not a directory
}

TEST_F(RunCommand, ProgressBarEndsWithOneFinishedLinePerJob) {
  WriteCsv("in.csv", 1000);
  const auto run = Run("run in.csv -o out.zcp -k key --progress bar");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto erase = run.err.rfind("\x1b[J");  // before the last redraw, if there were several
  const std::string last = erase == std::string::npos ? run.err : run.err.substr(erase + 3);
  EXPECT_EQ(last.rfind("in.csv  [########################] 100%", 0), 0u) << last;
  EXPECT_NE(last.find("1000 rows"), std::string::npos) << last;
  EXPECT_EQ(last.substr(last.size() - 5), "done\n") << last;
}

// Every input used to run at once: 300 inputs made 300 arenas and exhausted the per-process
// segment registry ("too many segments"). Now --jobs runners take them in turn, each on the
// arena and workers of its last input.
TEST_F(RunCommand, HundredsOfInputsRunAFewAtATimeOnTheSameWorkers) {
  constexpr int kInputs = 300;
  for (int i = 0; i < kInputs; ++i) WriteCsv("in_" + std::to_string(i) + ".csv", 20);
  std::filesystem::create_directory(dir_ / "out");
  const auto run =
      Run("run in_*.csv -o out -k key --isolate --workers 1 --jobs 2 --progress none --stats json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::set<std::string> inputs;
  int reused = 0;
  ForEachJsonLine(run.out, [&](simdjson::dom::object stats) {
    EXPECT_EQ(std::string_view(stats["status"]), "succeeded");
    EXPECT_EQ(std::uint64_t(stats["rows_out"]), 20u);
    inputs.insert(std::string(std::string_view(stats["input"])));
    reused += bool(stats["reused_resources"]) ? 1 : 0;
  });
  EXPECT_EQ(inputs.size(), std::size_t{kInputs});
  EXPECT_EQ(reused, kInputs - 2);  // all but each runner's first
  for (int i = 0; i < kInputs; ++i) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / ("in_" + std::to_string(i) + ".zcp"))) << i;
  }
}

// A failed input publishes nothing and its runner's next input starts cold (the failed job
// shut its workers down), but the inputs around it are imported.
TEST_F(RunCommand, AFailedInputLeavesTheOthersImported) {
  WriteCsv("a.csv", 100);
  WriteCsv("b.csv", 100, /*bad_id=*/50);
  WriteCsv("c.csv", 100);
  std::filesystem::create_directory(dir_ / "out");
  const auto run =
      Run("run a.csv b.csv c.csv -o out -k key --schema id:int64,email,amount:float64 --isolate "
          "--workers 1 --jobs 1 --progress none --stats json");
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("zcpipe: error: b.csv:52: "), std::string::npos) << run.err;
  std::map<std::string, std::pair<std::string, bool>> outcome;  // input: status, reused
  ForEachJsonLine(run.out, [&](simdjson::dom::object stats) {
    outcome[std::string(std::string_view(stats["input"]))] = {
        std::string(std::string_view(stats["status"])), bool(stats["reused_resources"])};
  });
  using Outcome = std::pair<std::string, bool>;
  EXPECT_EQ(outcome, (std::map<std::string, Outcome>{{"a.csv", {"succeeded", false}},
                                                     {"b.csv", {"failed", true}},
                                                     {"c.csv", {"succeeded", false}}}));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "a.zcp"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "b.zcp"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "c.zcp"));
}

// Bars are drawn for running jobs only, with a count of those waiting; each finished job's line
// is printed once, and the last of them ends the output.
TEST_F(RunCommand, ProgressBarsShowRunningJobsAndHowManyWait) {
  WriteCsv("a.csv", 100);
  WriteCsv("b.csv", 200);
  WriteCsv("c.csv", 300);
  std::filesystem::create_directory(dir_ / "out");
  const auto run = Run("run a.csv b.csv c.csv -o out -k key --jobs 1 --progress bar");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("\n2 more waiting\n"), std::string::npos) << run.err;
  std::map<std::string, int> done_lines;  // input: its lines that say "done"
  std::istringstream lines(run.err);
  for (std::string line; std::getline(lines, line);) {
    if (const auto erase = line.rfind("\x1b[J"); erase != std::string::npos) {
      line.erase(0, erase + 3);  // the redraw's cursor movement
    }
    if (line.size() > 4 && line.substr(line.size() - 4) == "done") {
      ++done_lines[line.substr(0, line.find(' '))];
    }
  }
  EXPECT_EQ(done_lines, (std::map<std::string, int>{{"a.csv", 1}, {"b.csv", 1}, {"c.csv", 1}}))
      << run.err;
  const auto erase = run.err.rfind("\x1b[J");
  const std::string last = erase == std::string::npos ? run.err : run.err.substr(erase + 3);
  EXPECT_EQ(last.rfind("c.csv  [########################] 100%", 0), 0u) << last;
}

TEST_F(RunCommand, OnATerminalDrawsABarInColorUnlessNoColorIsSet) {
  WriteCsv("in.csv", 1000);
  const auto color = testing::ZcpipeOnTerminal("run in.csv -o a.zcp -k key", dir_.string());
  ASSERT_EQ(color.exit_code, 0) << color.out << color.err;
  EXPECT_NE(color.out.find("in.csv  [\x1b[32m########################\x1b[0m] 100%"),
            std::string::npos)
      << color.out;
  const auto plain =
      testing::ZcpipeOnTerminal("run in.csv -o b.zcp -k key", dir_.string(), "NO_COLOR=1");
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  EXPECT_NE(plain.out.find("in.csv  [########################] 100%"), std::string::npos)
      << plain.out;
  EXPECT_EQ(plain.out.find("\x1b[3"), std::string::npos) << plain.out;
}

TEST_F(RunCommand, TraceIsChromeTraceJsonWithEveryStage) {
  WriteCsv("in.csv", 5000);
  const auto run =
      Run("run in.csv -o out.zcp -k key --chunk-size 16KiB --arena 1MiB --trace trace.json "
          "--filter 'id > 10'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  simdjson::dom::parser parser;
  simdjson::dom::array events;
  ASSERT_EQ(parser.load((dir_ / "trace.json").string())["traceEvents"].get(events),
            simdjson::SUCCESS);
  std::set<std::string> slices;
  for (simdjson::dom::object event : events) {
    if (std::string_view(event["ph"]) == "X")
      slices.insert(std::string(std::string_view(event["name"])));
  }
  EXPECT_EQ(slices, (std::set<std::string>{"encrypt", "parse", "read", "transform", "write"}));
}

// The trace is created when the job starts, as the output is (issue 22: before, it was written
// at the end, after all the work).
TEST_F(RunCommand, ATraceThatCannotBeCreatedIsRefusedUpFrontAndNothingIsPublished) {
  WriteCsv("in.csv", 10);
  const auto run = Run("run in.csv -o out.zcp -k key --trace no-such-dir/trace.json");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("zcpipe: error: no-such-dir/trace.json: i/o error: create temporary "
                         "file no-such-dir/.trace.json.tmp-"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find(": No such file or directory"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));
}

TEST_F(RunCommand, UsageErrorsExitWith2) {
  WriteCsv("in.csv", 10);
  EXPECT_EQ(Run("run in.csv -k key").exit_code, 2);    // no -o
  EXPECT_EQ(Run("run in.csv -o o.zcp").exit_code, 2);  // no key
  EXPECT_EQ(Run("run in.csv -o o.zcp -k key --chunk-size lots").exit_code, 2);
  EXPECT_EQ(Run("run in.csv -o o.zcp -k key --schema id:nope").exit_code, 2);
  const auto usage = Run("run in.csv -o o.zcp -k key --on-error maybe");
  EXPECT_EQ(usage.err.rfind("zcpipe: error: --on-error: ", 0), 0u) << usage.err;
  const auto help = Run("run --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos) << help.out;
}

// An input that gives no usable schema (nothing in it, a header that is not text) is named, and
// so is the reason; before, a binary header was reported as the output's "schema is not UTF-8".
TEST_F(RunCommand, AnInputWithoutAUsableSchemaIsNamedWithTheReason) {
  std::ofstream(dir_ / "empty.csv").close();
  const auto empty = Run("run empty.csv -o o.zcp -k key");
  EXPECT_EQ(empty.exit_code, 3);
  EXPECT_EQ(empty.err,
            "zcpipe: error: empty.csv: cannot infer a schema from an empty input: give one\n");
  std::ofstream(dir_ / "binary.csv", std::ios::binary) << "id,\xff\xfe\n1,2\n";
  const auto binary = Run("run binary.csv -o o.zcp -k key");
  EXPECT_EQ(binary.exit_code, 3);
  EXPECT_EQ(binary.err, "zcpipe: error: binary.csv: schema: the name of column 2 is not UTF-8\n");
  EXPECT_EQ(Files(), (std::vector<std::string>{"binary.csv", "empty.csv", "key"}));
}

// JSON Lines with no object to infer a schema from (issue 22): with --isolate the job failed
// with "schema: no columns", naming no file, and in-process it wrote a container of no columns
// that nothing could read back. Every placement refuses it alike and says what to do; with a
// schema, every row is rejected and the import succeeds.
TEST_F(RunCommand, AnInputWithNoObjectToInferFromFailsAlikeInEveryPlacement) {
  std::ofstream(dir_ / "junk.jsonl") << "not json\nalso not json\n";
  for (const char* placement : {"", " --isolate", " --isolate --transport copy"}) {
    const auto junk =
        Run(std::string("run junk.jsonl -o o.zcp -k key --on-error skip") + placement);
    EXPECT_EQ(junk.exit_code, 3) << placement;
    EXPECT_EQ(junk.err,
              "zcpipe: error: junk.jsonl: cannot infer a schema: no JSON object with a named key "
              "in the first chunk: give one\n")
        << placement;
    EXPECT_EQ(Files(), (std::vector<std::string>{"junk.jsonl", "key"})) << placement;
    const auto typed = Run(std::string("run junk.jsonl -o o.zcp -k key --on-error skip --schema "
                                       "a:int64 --stats json --force") +
                           placement);
    EXPECT_EQ(typed.exit_code, 0) << placement << typed.err;
    ForEachJsonLine(typed.out, [](simdjson::dom::object stats) {
      EXPECT_EQ(std::uint64_t(stats["rows_rejected"]), 2u);
      EXPECT_EQ(std::uint64_t(stats["rows_out"]), 0u);
    });
    std::filesystem::remove(dir_ / "o.zcp");
  }
}

TEST_F(RunCommand, AMissingInputOrKeyFileIsAnInputError) {
  const auto missing = Run("run missing.csv -o o.zcp -k key");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("zcpipe: error: "), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("missing.csv"), std::string::npos) << missing.err;
  const auto no_key = Run("run " + WriteCsv("in.csv", 10) + " -o o.zcp -k no-key");
  EXPECT_EQ(no_key.exit_code, 3);
  EXPECT_NE(no_key.err.find("zcpipe: error: no-key: "), std::string::npos) << no_key.err;
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "key"}));
}

TEST_F(RunCommand, APassphraseFromADescriptorUnlocksTheExport) {
  WriteCsv("in.csv", 100);
  std::ofstream(dir_ / "pass.txt") << "correct horse\n";
  ASSERT_EQ(Run("run in.csv -o out.zcp --passphrase-fd 3 3<pass.txt").exit_code, 0);
  EXPECT_EQ(Run("verify out.zcp --passphrase-fd 3 3<pass.txt").exit_code, 0);
  EXPECT_NE(Run("inspect out.zcp").out.find("key:         passphrase (scrypt N=2^15 r=8 p=1)"),
            std::string::npos);
  const auto wrong = Run("verify out.zcp --passphrase-fd 3 3<in.csv");
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
}

// A CSV of 2,000,000 rows (58 MB): seconds of import.
void WriteBig(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  out << "id,email,amount\n";
  const std::string row = ",someone@example.org,12.5\n";
  for (int i = 0; i < 2'000'000; ++i) out << i << row;
}

TEST_F(RunCommand, SigintCancelsCleanlyAndExitsWith130) {
  WriteBig(dir_ / "big.csv");
  const auto run =
      StopEarly("run big.csv -o out.zcp -k key --progress json --chunk-size 64KiB --arena 4MiB",
                dir_, "{", dir_ / "out.zcp", std::filesystem::file_size(dir_ / "big.csv") / 2);
  ASSERT_TRUE(run) << "the import was never stopped early";
  ASSERT_EQ(::kill(run->pid(), SIGINT), 0);
  run->Continue();
  std::string last;
  while (auto line = run->ReadErrLine()) last = *line;
  EXPECT_EQ(run->Wait(), 130) << last;
  EXPECT_EQ(last, "zcpipe: interrupted: the imports were cancelled, no output was published");
  EXPECT_EQ(Files(), (std::vector<std::string>{"big.csv", "key"}));  // no output, no temp file
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    EXPECT_NE(
        entry.path().filename().string().rfind("zcpipe." + std::to_string(run->pid()) + ".", 0), 0u)
        << entry.path();
  }
}

// Inputs run a few at a time, so some may be published before Ctrl-C: the message says how many.
TEST_F(RunCommand, SigintAfterSomeInputsSaysHowManyWereImported) {
  WriteCsv("a.csv", 100);
  WriteBig(dir_ / "b.csv");
  WriteCsv("c.csv", 100);
  std::filesystem::create_directory(dir_ / "out");
  const auto run = StopEarly(
      "run a.csv b.csv c.csv -o out -k key --jobs 1 --progress json --chunk-size 64KiB "
      "--arena 4MiB",
      dir_, R"("input":"b.csv")", dir_ / "out" / "b.zcp",
      std::filesystem::file_size(dir_ / "b.csv") / 2);
  ASSERT_TRUE(run) << "b.csv was never stopped early";
  ASSERT_EQ(::kill(run->pid(), SIGINT), 0);
  run->Continue();
  std::string last;
  while (auto more = run->ReadErrLine()) last = *more;
  EXPECT_EQ(run->Wait(), 130) << last;
  EXPECT_EQ(last, "zcpipe: interrupted: 1 of 3 inputs were imported; the others published nothing");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "a.zcp"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "b.zcp"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "c.zcp"));
}

// Runs `command` (a run of big.csv into out.zcp, with --resume) in `dir`, interrupts it early
// with SIGINT, checks that it exited with 130 and sets `last` to the last line of its stderr.
// Call it in ASSERT_NO_FATAL_FAILURE.
void InterruptEarly(const std::string& command, const std::filesystem::path& dir,
                    std::string& last) {
  const auto run = StopEarly(command + " --progress json", dir, "{", dir / "out.zcp",
                             std::filesystem::file_size(dir / "big.csv") / 2);
  ASSERT_TRUE(run) << "the import was never stopped early";
  ASSERT_EQ(::kill(run->pid(), SIGINT), 0);
  run->Continue();
  while (auto line = run->ReadErrLine()) last = *line;
  ASSERT_EQ(run->Wait(), 130) << last;
}

TEST_F(RunCommand, SigintWithResumeKeepsTheProgressForTheSameCommand) {
  WriteBig(dir_ / "big.csv");
  const std::string command =
      "run big.csv -o out.zcp -k key --resume --chunk-size 64KiB --arena 4MiB";
  std::string last;
  ASSERT_NO_FATAL_FAILURE(InterruptEarly(command, dir_, last));
  EXPECT_EQ(last,
            "zcpipe: interrupted: the imports were cancelled, no output was published; the same "
            "command continues them (--resume kept their progress)");
  const auto kept = Files();  // big.csv, key, the journal and the temporary container
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[0], ".out.zcp.journal");
  EXPECT_EQ(kept[1].rfind(".out.zcp.tmp-", 0), 0u) << kept[1];

  const auto again = Run(command + " --stats json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ForEachJsonLine(again.out, [](simdjson::dom::object stats) {
    EXPECT_EQ(std::uint64_t(stats["rows_out"]), 2'000'000u);
  });
  EXPECT_EQ(Files(), (std::vector<std::string>{"big.csv", "key", "out.zcp"}));
  EXPECT_EQ(Run("verify out.zcp -k key").exit_code, 0);
}

// Issue 24: a resume continues the interrupted run's container, under its key and frame
// indices (the AES-GCM nonces). With other settings it would encrypt other rows under nonces
// already used: it is a usage error that says what changed and what to do, and keeps the
// progress for the command with the settings it was made with.
TEST_F(RunCommand, AResumeWithOtherSettingsIsAUsageErrorThatKeepsTheProgress) {
  WriteBig(dir_ / "big.csv");
  const std::string command =
      "run big.csv -o out.zcp -k key --resume --chunk-size 64KiB --arena 4MiB";
  std::string last;
  ASSERT_NO_FATAL_FAILURE(InterruptEarly(command, dir_, last));
  const auto kept = Files();  // big.csv, key, the journal and the temporary container

  const auto masked = Run(command + " --mask email:keep_last=3");
  EXPECT_EQ(masked.exit_code, 2) << masked.err;
  EXPECT_NE(masked.err.find("out.zcp: cannot resume: the transforms"), std::string::npos)
      << masked.err;
  EXPECT_NE(masked.err.find("drop --resume to start over"), std::string::npos) << masked.err;
  const auto skipping = Run(command + " --on-error skip");
  EXPECT_EQ(skipping.exit_code, 2) << skipping.err;
  EXPECT_NE(skipping.err.find("the error policy (--on-error) changed"), std::string::npos)
      << skipping.err;
  EXPECT_EQ(Files(), kept);

  const auto again = Run(command);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Files(), (std::vector<std::string>{"big.csv", "key", "out.zcp"}));
  EXPECT_EQ(Run("verify out.zcp -k key").exit_code, 0);
}

}  // namespace
}  // namespace zcpipe::cli
