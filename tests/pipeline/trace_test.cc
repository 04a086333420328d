#include "trace.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "file_size_limit.h"
#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::detail {
namespace {

namespace fs = std::filesystem;
using Clock = TraceRecorder::Clock;

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("trace");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The trace's events, parsed; fails the test when the file is not JSON.
  simdjson::dom::array Events(const fs::path& path) {
    auto document = parser_.load(path.string());
    EXPECT_EQ(document.error(), simdjson::SUCCESS) << path;
    simdjson::dom::array events;
    EXPECT_EQ(document["traceEvents"].get(events), simdjson::SUCCESS);
    return events;
  }

  fs::path dir_;
  simdjson::dom::parser parser_;
};

TEST_F(TraceTest, ThreadsRecordAtOnceEachOnItsOwnTrack) {
  const auto origin = Clock::now();
  TraceRecorder trace(origin, "zcpipe job 1");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&trace, origin] {
      for (std::uint64_t chunk = 0; chunk < 500; ++chunk) {
        trace.Slice(trace.ThreadTrack("parse"), "parse", origin, Clock::now(), {{"chunk", chunk}});
        trace.Counter("chunks in flight", Clock::now(), 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const fs::path path = dir_ / "trace.json";
  std::ofstream(path, std::ios::binary) << trace.Json();
  std::map<std::string, int> phases;
  std::set<std::uint64_t> tids;
  for (simdjson::dom::object event : Events(path)) {
    const std::string phase{std::string_view(event["ph"])};
    ++phases[phase];
    if (phase == "X") tids.insert(std::uint64_t(event["tid"]));
  }
  EXPECT_EQ(phases["X"], 2000);
  EXPECT_EQ(phases["C"], 2000);
  EXPECT_EQ(phases["M"], 5);  // the process, "parse #1" to "parse #4"
  EXPECT_EQ(tids.size(), 4u);
}

// Jobs run the oneTBB flow graph: excluded from TSan runs like JobTest (see Makefile).
using JobTraceTest = TraceTest;

TEST_F(TraceTest, WritesSlicesOnNamedTracksCountersAndForeignTracks) {
  const auto origin = Clock::now();
  TraceRecorder trace(origin, "zcpipe job 1");
  const auto parse = trace.ThreadTrack("parse");
  EXPECT_EQ(trace.ThreadTrack("parse").tid, parse.tid);  // the same thread, the same track
  EXPECT_NE(trace.ThreadTrack("write").tid, parse.tid);
  trace.Slice(parse, "parse", origin + std::chrono::microseconds(10),
              origin + std::chrono::microseconds(35), {{"chunk", 7}, {"rows", 100}});
  trace.Counter("arena bytes in use", origin + std::chrono::microseconds(40), 4096);
  // A worker process's track, as a worker reports it.
  trace.NameProcess(99999, "worker 0");
  trace.NameTrack({99999, 1}, "transform");
  trace.Slice({99999, 1}, "transform", origin, origin + std::chrono::microseconds(5));
  const fs::path path = dir_ / "trace.json";
  std::ofstream(path, std::ios::binary) << trace.Json();

  std::map<std::string, int> phases;
  bool parse_slice = false, worker_slice = false, counter = false;
  for (simdjson::dom::object event : Events(path)) {
    const std::string phase{std::string_view(event["ph"])};
    ++phases[phase];
    const std::string_view name = event["name"];
    if (phase == "X" && name == "parse") {
      parse_slice = true;
      EXPECT_EQ(std::uint64_t(event["pid"]), std::uint64_t(::getpid()));
      EXPECT_EQ(std::uint64_t(event["tid"]), parse.tid);
      EXPECT_DOUBLE_EQ(double(event["ts"]), 10.0);
      EXPECT_DOUBLE_EQ(double(event["dur"]), 25.0);
      EXPECT_EQ(std::uint64_t(event["args"]["chunk"]), 7u);
      EXPECT_EQ(std::uint64_t(event["args"]["rows"]), 100u);
    }
    if (phase == "X" && name == "transform") {
      worker_slice = std::uint64_t(event["pid"]) == 99999 && std::uint64_t(event["tid"]) == 1;
    }
    if (phase == "C") counter = double(event["args"]["value"]) == 4096.0;
  }
  EXPECT_TRUE(parse_slice);
  EXPECT_TRUE(worker_slice);
  EXPECT_TRUE(counter);
  EXPECT_EQ(phases["M"], 5);  // 2 processes, 2 coordinator tracks, 1 worker track
}

TEST_F(JobTraceTest, TracesEveryStageOfEveryChunk) {
  const fs::path input = dir_ / "in.csv";
  {
    std::ofstream out(input);
    out << "id,amount\n";
    for (int i = 0; i < 20000; ++i) out << i << ',' << i % 100 << '\n';
  }
  JobConfig config;
  config.input = input;
  config.schema = stages::Schema::Parse("id:int64,amount:float64");
  config.transform = stages::ParseTransform("filter", "amount >= 50");
  config.output = dir_ / "out.zcp";
  config.credential = testing::TestKey(std::byte{1});
  config.chunk_size = 16 << 10;
  config.arena_size = 2 << 20;
  config.threads = 2;
  config.trace = dir_ / "trace.json";
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded);

  std::map<std::string, std::set<std::uint64_t>> chunks_by_stage;
  std::set<std::string> counters, thread_names;
  for (simdjson::dom::object event : Events(config.trace)) {
    const std::string_view phase = event["ph"];
    const std::string name{std::string_view(event["name"])};
    if (phase == "X") chunks_by_stage[name].insert(std::uint64_t(event["args"]["chunk"]));
    if (phase == "C") counters.insert(name);
    if (phase == "M" && name == "thread_name") {
      thread_names.insert(std::string(std::string_view(event["args"]["name"])));
    }
  }
  const std::uint64_t chunks = report.totals.chunks_done;
  ASSERT_GT(chunks, 10u);
  for (const char* stage : {"read", "parse", "transform", "encrypt", "write"}) {
    EXPECT_EQ(chunks_by_stage[stage].size(), chunks) << stage;
    EXPECT_TRUE(thread_names.contains(std::string(stage) + " #1")) << stage;
  }
  EXPECT_TRUE(counters.contains("chunks in flight"));
  EXPECT_TRUE(counters.contains("arena bytes in use"));
}

// A job that imports `rows` rows of "id,amount" (every row with id `bad_id` fails the job),
// traced into trace.json.
JobConfig TracedJob(const fs::path& dir, int rows, int bad_id = -1) {
  {
    std::ofstream out(dir / "in.csv");
    out << "id,amount\n";
    for (int i = 0; i < rows; ++i) out << i << ',' << (i == bad_id ? "oops" : "1") << '\n';
  }
  JobConfig config;
  config.input = dir / "in.csv";
  config.schema = stages::Schema::Parse("id:int64,amount:float64");
  config.batch_sink = [](const stages::BatchView&) {};
  config.chunk_size = 4 << 10;
  config.arena_size = 256 << 10;
  config.threads = 2;
  config.trace = dir / "trace.json";
  return config;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Issue 22: the trace is as careful as the container. Before, it was written with the umask's
// mode wherever the job ended, over any file of that name, even when the job failed.
TEST_F(JobTraceTest, ATraceIsPublished0600OnlyByAJobThatSucceeds) {
  auto config = TracedJob(dir_, 2000, /*bad_id=*/1500);
  std::ofstream(config.trace) << "precious";
  const Report refused = zcpipe::Run(config);
  ASSERT_EQ(refused.status, JobStatus::kFailed);
  EXPECT_EQ(refused.error->kind, ErrorKind::kInitialization);
  EXPECT_NE(refused.error->message.find("trace.json already exists"), std::string::npos)
      << refused.error->message;
  EXPECT_EQ(Read(config.trace), "precious");

  config.replace_output = true;  // --force: the job fails at row 1500, and replaces nothing
  ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kFailed);
  EXPECT_EQ(Read(config.trace), "precious");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);

  config = TracedJob(dir_, 2000);
  config.replace_output = true;
  const mode_t umask = ::umask(022);
  const Report report = zcpipe::Run(config);
  ::umask(umask);
  ASSERT_EQ(report.status, JobStatus::kSucceeded);
  EXPECT_EQ(fs::status(config.trace).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_GT(Events(config.trace).size(), 0u);
}

// Before: a trace that could not be written whole (full disk) was cut, and the job succeeded.
TEST_F(JobTraceTest, ATraceThatCannotBeWrittenFailsTheJobAndPublishesNothing) {
  auto config = TracedJob(dir_, 1000000);
  ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kSucceeded);
  const auto size = fs::file_size(config.trace);
  ASSERT_GT(size, 2 * config.arena_size);  // room for the arena below the limit, not the trace
  fs::remove(config.trace);
  Report report;
  {
    testing::FileSizeLimit limit((size + config.arena_size) / 2);
    report = zcpipe::Run(config);
  }
  ASSERT_EQ(report.status, JobStatus::kFailed);
  EXPECT_EQ(report.error->stage, Stage::kWrite);
  EXPECT_NE(report.error->message.find(config.trace.string() + ": i/o error"), std::string::npos)
      << report.error->message;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // in.csv
}

TEST_F(JobTraceTest, WithoutATracePathWritesNone) {
  const fs::path input = dir_ / "in.csv";
  std::ofstream(input) << "id\n1\n";
  JobConfig config;
  config.input = input;
  config.batch_sink = [](const stages::BatchView&) {};
  ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kSucceeded);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace zcpipe::detail
