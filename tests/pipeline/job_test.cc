#include "zcpipe/pipeline/job.h"
#include "scratch.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "gate_transform.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("job");
    fs::create_directories(dir_);
    key_ = testing::TestKey(std::byte{9});
  }
  void TearDown() override { fs::remove_all(dir_); }

  // rows of "id,name,amount" with id = 0..rows-1; bad_every > 0 puts a bad amount on every
  // bad_every-th row.
  fs::path WriteCsv(const std::string& name, int rows, int bad_every = 0) {
    const fs::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < rows; ++i) {
      out << i << ",name-" << i << ",";
      if (bad_every > 0 && i % bad_every == bad_every - 1)
        out << "x" << i;
      else if (i % 7 == 0)
        out << i % 1000;  // as the exporter writes it: shortest form
      else
        out << i % 1000 << "." << i % 7;
      out << "\n";
    }
    return path;
  }

  JobConfig Config(const fs::path& input) {
    JobConfig config;
    config.input = input;
    config.schema = stages::Schema::Parse("id:int64,name:string,amount:float64");
    config.chunk_size = 64 << 10;  // many chunks
    config.arena_size = 4 << 20;
    config.threads = 2;
    config.progress_interval = 1ms;
    return config;
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
};

TEST_F(JobTest, ImportsToAContainerThatExportsBackTheSameRows) {
  const auto input = WriteCsv("in.csv", 50000);
  auto config = Config(input);
  config.output = dir_ / "out.zcp";
  config.credential = key_;
  std::mutex mutex;
  std::vector<ProgressEvent> progress;
  config.on_progress = [&](const ProgressEvent& event) {
    std::lock_guard lock(mutex);
    progress.push_back(event);
  };
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
  EXPECT_EQ(report.totals.rows_in, 50000u);
  EXPECT_EQ(report.totals.rows_out, 50000u);
  EXPECT_EQ(report.totals.rows_rejected, 0u);
  EXPECT_GT(report.totals.chunks_done, 10u);
  EXPECT_EQ(report.totals.bytes_in, fs::file_size(input));
  EXPECT_EQ(report.bytes_copied_between_stages, 0u);
  EXPECT_LE(report.arena_peak_bytes, report.arena_bytes);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(progress.back().final);
  EXPECT_EQ(progress.back().rows_out, 50000u);

  ASSERT_TRUE(stages::ExportFile(config.output, dir_ / "back.csv", *key_, {}));
  std::stringstream original, back;
  original << std::ifstream(input).rdbuf();
  back << std::ifstream(dir_ / "back.csv").rdbuf();
  EXPECT_TRUE(back.str() == original.str());  // (no diff: a mismatch would print 700 KB)
}

// Delays every batch by a random time, so that chunks overtake each other in the graph.
class Jitter final : public stages::Transform {
 public:
  stages::Schema OutputSchema(const stages::Schema& input) const override { return input; }
  stages::StageResult<stages::TransformOutput> Apply(const stages::BatchView& in,
                                                     std::span<std::byte> out,
                                                     stages::InputErrors& rejected) const override {
    thread_local std::mt19937 random(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
    return copy_.Apply(in, out, rejected);
  }

 private:
  stages::SelectTransform copy_{{"id", "name", "amount"}};
};

TEST_F(JobTest, OutputOrderIsInputOrderWhateverTheStageDelays) {
  auto config = Config(WriteCsv("in.csv", 30000));
  config.chunk_size = 16 << 10;
  config.transform = std::make_shared<Jitter>();
  std::vector<std::int64_t> ids;
  config.batch_sink = [&](const stages::BatchView& batch) {
    for (std::uint32_t row = 0; row < batch.row_count(); ++row) {
      ids.push_back(batch.column(0).int64(row));
    }
  };
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded);
  ASSERT_EQ(ids.size(), 30000u);
  for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], static_cast<std::int64_t>(i));
}

TEST_F(JobTest, SkipAndQuarantineReportEveryBadRowInOrderAndLoseNone) {
  auto config = Config(WriteCsv("in.csv", 20000, /*bad_every=*/1000));
  config.on_error = ErrorPolicy::kQuarantine;
  config.rejects = dir_ / "rejects.jsonl";
  config.output = dir_ / "out.zcp";
  config.credential = key_;
  std::vector<ErrorEvent> errors;
  config.on_error_event = [&](const ErrorEvent& error) { errors.push_back(error); };
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded);
  EXPECT_EQ(report.totals.rows_in, 20000u);
  EXPECT_EQ(report.totals.rows_rejected, 20u);
  EXPECT_EQ(report.totals.rows_out, 19980u);
  ASSERT_EQ(errors.size(), 20u);
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const std::uint64_t line = 2 + 999 + 1000 * i;  // header is line 1; row i is line i + 2
    EXPECT_EQ(errors[i].kind, ErrorKind::kInput);
    EXPECT_EQ(errors[i].line, line);
    EXPECT_EQ(errors[i].reason, "bad float64");
    EXPECT_EQ(errors[i].message,
              config.input.string() + ":" + std::to_string(line) + ": line " +
                  std::to_string(line) + " (byte " + std::to_string(errors[i].byte_offset) +
                  "): bad float64 in column 'amount': \"x" + std::to_string(999 + 1000 * i) + "\"");
    EXPECT_EQ(errors[i].job, report.job);
  }
  std::ifstream rejects(config.rejects);
  std::string line;
  std::size_t count = 0;
  while (std::getline(rejects, line)) {
    EXPECT_NE(line.find("\"line\":" + std::to_string(2 + 999 + 1000 * count)), std::string::npos)
        << line;
    ++count;
  }
  EXPECT_EQ(count, 20u);
}

TEST_F(JobTest, FailStopsAtTheFirstBadRowAndPublishesNothing) {
  auto config = Config(WriteCsv("in.csv", 20000, /*bad_every=*/5000));
  config.output = dir_ / "out.zcp";
  config.credential = key_;
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kFailed);
  ASSERT_TRUE(report.error);
  EXPECT_EQ(report.error->kind, ErrorKind::kInput);
  EXPECT_EQ(report.error->line, 5001u);                    // the first bad row in input order
  EXPECT_EQ(Files(), std::vector<std::string>{"in.csv"});  // no output, no temporary file
}

TEST_F(JobTest, CancelStopsCleanlyAndLeavesNothing) {
  auto config = Config(WriteCsv("in.csv", 200000));
  config.chunk_size = 8 << 10;
  const auto gate = std::make_shared<testing::GateTransform>(100'000);  // holds the run there
  config.transform = gate;
  config.output = dir_ / "out.zcp";
  config.credential = key_;
  Job job = Job::Start(config);
  const bool midway = gate->WaitUntilReached(60s);
  job.Cancel();
  gate->Open();
  const Report report = job.Wait();
  ASSERT_TRUE(midway);
  EXPECT_EQ(report.status, JobStatus::kCancelled);
  EXPECT_FALSE(report.error);
  EXPECT_LT(report.totals.rows_out, 100000u);
  EXPECT_FALSE(report.resumable);  // without JobConfig::resume
  EXPECT_EQ(Files(), std::vector<std::string>{"in.csv"});
}

TEST_F(JobTest, JobsRunningAtOnceTagEveryEventWithTheirOwnId) {
  auto a = Config(WriteCsv("a.csv", 20000, 4000));
  auto b = Config(WriteCsv("b.csv", 30000, 3000));
  struct Seen {
    std::mutex mutex;
    std::set<std::uint64_t> ids;
    std::size_t errors = 0;
  } seen_a, seen_b;
  for (auto [config, seen] : {std::pair{&a, &seen_a}, std::pair{&b, &seen_b}}) {
    config->on_error = ErrorPolicy::kSkip;
    config->batch_sink = [](const stages::BatchView&) {};
    config->on_error_event = [seen](const ErrorEvent& e) {
      std::lock_guard lock(seen->mutex);
      seen->ids.insert(e.job);
      ++seen->errors;
    };
    config->on_progress = [seen](const ProgressEvent& e) {
      std::lock_guard lock(seen->mutex);
      seen->ids.insert(e.job);
    };
  }
  Job job_a = Job::Start(a);
  Job job_b = Job::Start(b);
  EXPECT_NE(job_a.id(), job_b.id());
  const Report ra = job_a.Wait(), rb = job_b.Wait();
  EXPECT_EQ(seen_a.ids, std::set<std::uint64_t>{job_a.id()});
  EXPECT_EQ(seen_b.ids, std::set<std::uint64_t>{job_b.id()});
  EXPECT_EQ(seen_a.errors, 5u);
  EXPECT_EQ(seen_b.errors, 10u);
  EXPECT_EQ(ra.totals.rows_in, ra.totals.rows_out + ra.totals.rows_rejected);
  EXPECT_EQ(rb.totals.rows_in, rb.totals.rows_out + rb.totals.rows_rejected);
}

TEST_F(JobTest, ASlowListenerDoesNotSlowTheImport) {
  auto config = Config(WriteCsv("in.csv", 50000));
  // The first call waits for the import's last batch: an import that waited for its listener
  // would never get there (the listener gives up after a minute, and the test fails).
  std::promise<void> last_batch;
  std::atomic<bool> gave_up{false};
  std::atomic<int> calls{0};
  config.on_progress = [&, done = last_batch.get_future().share()](const ProgressEvent&) {
    if (++calls == 1) gave_up = done.wait_for(60s) != std::future_status::ready;
  };
  std::uint64_t rows = 0;
  config.batch_sink = [&](const stages::BatchView& batch) {
    rows += batch.row_count();
    if (rows == 50000) last_batch.set_value();
  };
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded);
  EXPECT_EQ(rows, 50000u);
  EXPECT_EQ(report.totals.rows_out, 50000u);  // the final event is exact
  EXPECT_FALSE(gave_up.load()) << "the import waited for its progress listener";
  // Not a call per chunk (16): the first, the latest when it returned, the last chunk's if it
  // came after that, the final.
  EXPECT_LE(calls.load(), 4);
}

TEST_F(JobTest, SetUpFailuresAreReportedAsInitializationErrors) {
  auto config = Config(dir_ / "missing.csv");
  config.batch_sink = [](const stages::BatchView&) {};
  std::vector<ErrorEvent> errors;
  config.on_error_event = [&](const ErrorEvent& e) { errors.push_back(e); };
  const Report report = zcpipe::Run(config);
  EXPECT_EQ(report.status, JobStatus::kFailed);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].kind, ErrorKind::kInitialization);
  EXPECT_NE(errors[0].message.find("missing.csv: cannot open"), std::string::npos);

  auto exists = Config(WriteCsv("in.csv", 10));
  std::ofstream(dir_ / "out.zcp") << "precious";
  exists.output = dir_ / "out.zcp";
  exists.credential = key_;
  const Report refused = zcpipe::Run(exists);
  ASSERT_EQ(refused.status, JobStatus::kFailed);
  EXPECT_EQ(refused.error->kind, ErrorKind::kInitialization);
  std::stringstream kept;
  kept << std::ifstream(dir_ / "out.zcp").rdbuf();
  EXPECT_EQ(kept.str(), "precious");
}

// A chunk whose batches need more blocks than the smallest arena has: with one chunk in flight
// it holds every block in use, so waiting for one to be released (10 s) would be waiting for
// itself. It fails at once, naming the chunk.
TEST_F(JobTest, AChunkThatOutgrowsALoneArenaFailsAtOnceNamingIt) {
  const auto input = dir_ / "tiny.csv";
  {
    std::ofstream out(input);
    out << "a,b,c,d,e,f,g,h\n";
    for (int i = 0; i < 20000; ++i) out << "1,2,3,4,5,6,7,8\n";  // 4 bytes a field once parsed
  }
  JobConfig config;
  config.input = input;
  config.schema =
      stages::Schema::Parse("a:int64,b:int64,c:int64,d:int64,e:int64,f:int64,g:int64,h:int64");
  config.chunk_size = 64 << 10;
  config.arena_size = 8 * config.chunk_size;  // the least allowed: one chunk in flight
  config.batch_sink = [](const stages::BatchView&) {};
  const auto since = std::chrono::steady_clock::now();
  const Report report = zcpipe::Run(config);
  EXPECT_LT(std::chrono::steady_clock::now() - since, 5s);
  ASSERT_EQ(report.status, JobStatus::kFailed);
  ASSERT_TRUE(report.error);
  EXPECT_EQ(report.error->reason, "arena exhausted");
  EXPECT_EQ(report.error->chunk, 0u);
  EXPECT_EQ(report.error->line, 1u);
  EXPECT_NE(report.error->message.find("tiny.csv:1: chunk 0 needs another arena block and none "
                                       "is free (3 blocks of 135168 bytes, 1 chunk(s) in flight)"),
            std::string::npos)
      << report.error->message;
}

TEST_F(JobTest, BadConfigurationThrows) {
  auto config = Config(WriteCsv("in.csv", 10));
  EXPECT_THROW((void)Job::Start(config), std::invalid_argument);  // no sink
  config.batch_sink = [](const stages::BatchView&) {};
  config.arena_size = config.chunk_size;
  EXPECT_THROW((void)Job::Start(config), std::invalid_argument);
  config.arena_size = 64 * config.chunk_size;
  for (const char delimiter : {'"', '\n', '\r', '\0'}) {
    config.delimiter = delimiter;
    EXPECT_THROW((void)Job::Start(config), std::invalid_argument) << int{delimiter};
  }
}

// With replace_output an output naming the input (here through a symbolic link) would replace
// it with the container: refused before anything is read or written.
TEST_F(JobTest, AJobWritesNeitherOverItsInputNorOneFileOverAnother) {
  auto config = Config(WriteCsv("in.csv", 10));
  const auto size = fs::file_size(dir_ / "in.csv");
  fs::create_symlink(dir_ / "in.csv", dir_ / "link.csv");
  config.credential = key_;
  config.replace_output = true;
  auto message = [&] {
    try {
      (void)Job::Start(config);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  config.output = dir_ / "link.csv";
  EXPECT_EQ(message(), "job: the output is the input: " + config.output.string());
  config.output = dir_ / "out.zcp";
  config.on_error = ErrorPolicy::kQuarantine;
  config.rejects = dir_ / "." / "out.zcp";
  EXPECT_EQ(message(), "job: the rejects file is the output: " + config.rejects.string());
  config.rejects = dir_ / "rejects.jsonl";
  config.trace = dir_ / "in.csv";
  EXPECT_EQ(message(), "job: the trace is the input: " + config.trace.string());
  EXPECT_EQ(fs::file_size(dir_ / "in.csv"), size);  // nothing written anywhere
  EXPECT_EQ(Files(), (std::vector<std::string>{"in.csv", "link.csv"}));
}

}  // namespace
}  // namespace zcpipe
