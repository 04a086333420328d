// Kill an import with SIGKILL mid-run, resume it, and get exactly what an uninterrupted run
// gives.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "child_process.h"
#include "file_names.h"
#include "gate_transform.h"
#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::size_t Points(const fs::path& journal) {
  std::ifstream in(journal);
  std::string line;
  std::size_t points = 0;
  while (std::getline(in, line)) points += line.starts_with("point ") && line.ends_with(" end");
  return points;
}

// The one temporary file of `path` in its directory (".NAME.tmp-XXXXXX").
fs::path TemporaryOf(const fs::path& path) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(path.parent_path())) {
    if (stages::IsTemporaryOf(path, entry.path())) found.push_back(entry.path());
  }
  EXPECT_EQ(found.size(), 1u) << path;
  return found.empty() ? fs::path() : found.front();
}

std::string Slurp(const fs::path& path) {
  std::stringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  return text.str();
}

std::uint64_t BigEndian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (const char byte : bytes) value = value << 8 | static_cast<unsigned char>(byte);
  return value;
}

// The whole frames of a .zcp file (docs/format.md), by nonce: (index, last flag). A frame cut
// short at the end (a file still being written) is left out.
std::map<std::pair<std::uint64_t, int>, std::string> FramesOf(const std::string& file) {
  std::map<std::pair<std::uint64_t, int>, std::string> frames;
  if (file.size() < 76) return frames;
  std::size_t at = 156 + BigEndian(std::string_view(file).substr(72, 4));
  while (at + 13 <= file.size()) {
    const std::size_t size = 13 + BigEndian(std::string_view(file).substr(at + 9, 4)) + 16;
    if (at + size > file.size()) break;
    frames[{BigEndian(std::string_view(file).substr(at, 8)), file[at + 8]}] = file.substr(at, size);
    at += size;
  }
  return frames;
}

class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    std::ofstream out(input_, std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < kRows; ++i) out << i << ",name-" << i << "," << i % 997 << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 16 KiB chunks through a copy of the columns, into out.zcp.
  JobConfig Config() const {
    JobConfig config;
    config.input = input_;
    config.output = output_;
    config.credential = key_;
    config.schema = stages::Schema::Parse("id:int64,name:string,amount:int64");
    config.transform = stages::ParseTransform("select", "id,name,amount");
    config.chunk_size = 16 << 10;
    config.arena_size = 2 << 20;
    config.threads = 2;
    return config;
  }

  // Runs `config` in a child process and kills it with SIGKILL once `far_enough()` (by
  // default, with a commit point after every chunk: once the journal has a point past the
  // start); then removes its arena as `zcpipe gc` would. The child's import waits at the middle
  // row (a GateTransform), so that it is still running then.
  void KillMidRun(JobConfig config, std::function<bool()> far_enough = {}) const {
    if (!far_enough) {
      config.journal_interval = 0ms;
      far_enough = [this] { return Points(journal_) >= 2; };
    }
    config.transform = std::make_shared<testing::GateTransform>(kRows / 2);
    testing::ChildProcess doomed = testing::ChildProcess::Fork([&] {
      (void)zcpipe::Run(config);
      return 0;
    });
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!far_enough() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    doomed.Kill(SIGKILL);
    ASSERT_TRUE(doomed.Wait());
    ASSERT_TRUE(far_enough()) << "the import never got going";
    ASSERT_FALSE(fs::exists(output_));  // nothing published by the killed run
    for (const auto& entry : fs::directory_iterator("/dev/shm")) {
      if (entry.path().filename().string().starts_with("zcpipe." + std::to_string(doomed.pid()) +
                                                       ".")) {
        fs::remove(entry.path());
      }
    }
  }

  // Runs `config` with resume to the end and checks that it continued an earlier run and that
  // the result is exactly the input, with nothing else left beside it. Its transform is the
  // killed run's, a GateTransform (a resume needs the same settings), open from the start.
  static constexpr bool kFromTheStart = true;  // the journal holds only the start's point
  void ResumeToTheEnd(JobConfig config, bool from_the_start = false) const {
    config.resume = true;
    config.transform = OpenGate();
    const Report report = zcpipe::Run(config);
    ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
    EXPECT_EQ(report.totals.rows_in, std::uint64_t{kRows});
    EXPECT_EQ(report.totals.rows_out, std::uint64_t{kRows});
    // It did resume: this run read fewer chunks than the import has.
    if (!from_the_start) {
      EXPECT_LT(report.totals.stages[static_cast<int>(Stage::kRead)].chunks,
                report.totals.chunks_done);
    }
    EXPECT_FALSE(fs::exists(journal_));

    ASSERT_TRUE(stages::ExportFile(output_, dir_ / "back.csv", *key_, {}));
    EXPECT_TRUE(Slurp(dir_ / "back.csv") == (utf8_.empty() ? Slurp(input_) : utf8_));
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
    EXPECT_EQ(files, 3u);  // in.csv, out.zcp, back.csv: no temporary file left
  }

  std::vector<std::string> Names() const { return testing::FileNames(dir_); }

  static std::shared_ptr<const stages::Transform> OpenGate() {
    auto gate = std::make_shared<testing::GateTransform>(kRows / 2);
    gate->Open();
    return gate;
  }

  static constexpr int kRows = 100000;
  std::string utf8_;  // the input as UTF-8, when it is in another encoding
  const fs::path dir_ = testing::TestDir("resume");
  const fs::path input_ = dir_ / "in.csv", output_ = dir_ / "out.zcp";
  const fs::path journal_ = dir_ / ".out.zcp.journal";
  const std::shared_ptr<const stages::Credential> key_ = testing::TestKey(std::byte{5});
};

TEST_F(Resume, AKilledImportResumesToTheSameResult) {
  JobConfig config = Config();
  KillMidRun(config);
  ResumeToTheEnd(config);
}

// Issue 25: with --encoding, the journal's resume point is an offset in the input (UTF-16 here,
// where text and offsets differ from the UTF-8 the stages see): the resumed run seeks there,
// takes the byte order from the mark at the input's start, and goes on with the right row.
TEST_F(Resume, AKilledUtf16ImportResumesToTheSameResult) {
  std::u16string text = u"\uFEFFid,name,amount\n";
  utf8_ = "id,name,amount\n";
  for (int i = 0; i < kRows; ++i) {
    const std::string n = std::to_string(i), amount = std::to_string(i % 997);
    text += std::u16string(n.begin(), n.end()) + u",\u540D\u00E9\U0001F600-" +
            std::u16string(n.begin(), n.end()) + u"," +
            std::u16string(amount.begin(), amount.end()) + u"\n";
    utf8_ += n + ",\xE5\x90\x8D\xC3\xA9\xF0\x9F\x98\x80-" + n + "," + amount + "\n";
  }
  {
    std::ofstream out(input_, std::ios::binary);
    for (const char16_t unit : text)
      out << static_cast<char>(unit & 0xFF) << static_cast<char>(unit >> 8);
  }
  JobConfig config = Config();
  config.encoding = stages::Encoding::kUtf16;
  KillMidRun(config);
  ResumeToTheEnd(config);
}

// The rejects file is written as the import goes: a resumed import cuts it back to what its
// journal point covers, so that every rejected row is in it once (before, the resumed run
// truncated it and the rows rejected before the kill were lost).
TEST_F(Resume, AKilledQuarantineImportKeepsEveryRejectedRowOnce) {
  {
    std::ofstream out(input_, std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < kRows; ++i) {
      out << i << ",name-" << i << "," << (i % 1000 == 7 ? "oops" : std::to_string(i % 997))
          << "\n";
    }
  }
  JobConfig config = Config();
  config.on_error = ErrorPolicy::kQuarantine;
  config.rejects = dir_ / "rejects.jsonl";
  KillMidRun(config);
  // Some were rejected before the kill, into a temporary file: nothing is published.
  EXPECT_FALSE(fs::exists(config.rejects));
  ASSERT_GT(fs::file_size(TemporaryOf(config.rejects)), 0u);

  config.resume = true;
  config.transform = OpenGate();
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
  EXPECT_LT(report.totals.stages[static_cast<int>(Stage::kRead)].chunks,
            report.totals.chunks_done);  // it did resume
  EXPECT_EQ(report.totals.rows_in, std::uint64_t{kRows});
  EXPECT_EQ(report.totals.rows_rejected, std::uint64_t{kRows / 1000});
  EXPECT_EQ(report.totals.rows_in, report.totals.rows_out + report.totals.rows_rejected);
  std::vector<std::uint64_t> lines;  // of the rejected rows, in the file's order
  std::ifstream rejects(config.rejects);
  for (std::string row; std::getline(rejects, row);) {
    const auto at = row.find("\"line\":");
    ASSERT_NE(at, std::string::npos) << row;
    lines.push_back(std::stoull(row.substr(at + 7)));
  }
  std::vector<std::uint64_t> expected;
  for (int i = 7; i < kRows; i += 1000) expected.push_back(static_cast<std::uint64_t>(i) + 2);
  EXPECT_EQ(lines, expected);
  EXPECT_EQ(fs::status(config.rejects).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(Names(), (std::vector<std::string>{"in.csv", "out.zcp", "rejects.jsonl"}));
}

// Issue 22: a run that starts over, without --resume, removes what the killed run left (before,
// a 103 MB ".out.zcp.tmp-*" stayed); SweepLeftovers (`zcpipe gc PATH`) does the same.
TEST_F(Resume, AKilledImportRunAgainWithoutResumeLeavesNothingBehind) {
  JobConfig config = Config();
  config.on_error = ErrorPolicy::kQuarantine;
  config.rejects = dir_ / "rejects.jsonl";
  KillMidRun(config);
  ASSERT_FALSE(TemporaryOf(output_).empty());
  ASSERT_FALSE(TemporaryOf(config.rejects).empty());
  ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kSucceeded);
  EXPECT_EQ(Names(), (std::vector<std::string>{"in.csv", "out.zcp", "rejects.jsonl"}));
}

TEST_F(Resume, SweepLeftoversRemovesAKilledImportsTemporaryFileAndJournal) {
  KillMidRun(Config());
  const fs::path temp = TemporaryOf(output_);
  const auto preview = SweepLeftovers(output_, /*dry_run=*/true);
  EXPECT_EQ(preview.removed, (std::vector<fs::path>{temp, journal_}));
  EXPECT_TRUE(fs::exists(temp));
  const auto sweep = SweepLeftovers(output_);
  EXPECT_EQ(sweep.removed, (std::vector<fs::path>{temp, journal_}));
  EXPECT_TRUE(sweep.failed.empty());
  EXPECT_EQ(Names(), std::vector<std::string>{"in.csv"});
}

// Issue 24: the journal's name is predictable. A symlink planted there must not make a run
// write its journal through it (before, the run truncated the target and wrote the journal into
// it).
TEST_F(Resume, ASymlinkedJournalNeverMakesARunWriteWhereItLeads) {
  std::ofstream(dir_ / "victim") << "precious";
  fs::create_symlink(dir_ / "victim", journal_);
  for (const bool resume : {false, true}) {
    JobConfig config = Config();
    config.resume = resume;
    config.replace_output = true;
    config.journal_interval = 0ms;
    ASSERT_EQ(zcpipe::Run(config).status, JobStatus::kSucceeded) << resume;
    EXPECT_EQ(Slurp(dir_ / "victim"), "precious") << resume;
    EXPECT_FALSE(fs::exists(fs::symlink_status(journal_))) << resume;
    fs::create_symlink(dir_ / "victim", journal_);
  }
}

// Issue 24: a journal names the temporary files to resume and to remove. One planted (or
// edited) to name another file must not make a run cut it, publish it, or remove it (before,
// --resume truncated it and renamed it into place as the output, or removed it when the
// journal did not match the input).
TEST_F(Resume, APlantedJournalNeverMakesARunCutOrRemoveAnotherFile) {
  const std::string precious(1 << 20, 'p');
  for (const bool matching : {true, false}) {
    SCOPED_TRACE(matching ? "a journal of this input" : "a journal of another input");
    KillMidRun(Config());
    std::vector<std::string> lines;  // the journal, its temporary file replaced by the victim
    {
      std::ifstream in(journal_);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    ASSERT_GE(lines.size(), 6u);
    lines[3] = (dir_ / "victim").string();  // the container's temporary file
    if (!matching) lines[2] = "1 2 " + lines[2].substr(lines[2].rfind(' ') + 1);  // size, mtime
    {
      std::ofstream out(journal_, std::ios::trunc);
      for (const auto& line : lines) out << line << '\n';
    }
    std::ofstream(dir_ / "victim", std::ios::binary) << precious;

    JobConfig config = Config();
    config.resume = true;
    config.transform = OpenGate();  // the killed run's settings
    const Report report = zcpipe::Run(config);
    EXPECT_EQ(Slurp(dir_ / "victim"), precious);
    if (matching) {  // refused: resuming another file is not resuming
      ASSERT_EQ(report.status, JobStatus::kFailed);
      EXPECT_NE(report.error->message.find("is not a temporary file of"), std::string::npos)
          << report.error->message;
      EXPECT_FALSE(fs::exists(output_));
    } else {  // started over
      ASSERT_EQ(report.status, JobStatus::kSucceeded) << report.error->message;
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path() != input_ && entry.path() != dir_ / "victim") fs::remove(entry.path());
    }
  }
}

// Ctrl-C is how most imports are interrupted: a job with resume that is cancelled records where
// its container ends at that moment (not only at its last periodic point) and leaves it.
TEST_F(Resume, ACancelledImportWithResumeContinuesWhereItStopped) {
  JobConfig config = Config();
  config.resume = true;
  config.journal_interval = std::chrono::hours(1);  // no periodic point: only the cancel's
  const auto gate = std::make_shared<testing::GateTransform>(kRows / 2);  // holds the run there
  config.transform = gate;
  Job job = Job::Start(config);
  const bool midway = gate->WaitUntilReached(60s);
  job.Cancel();
  gate->Open();
  const Report cancelled = job.Wait();
  ASSERT_TRUE(midway);
  ASSERT_EQ(cancelled.status, JobStatus::kCancelled);
  EXPECT_TRUE(cancelled.resumable);
  EXPECT_FALSE(fs::exists(output_));  // nothing published
  EXPECT_EQ(Points(journal_), 2u);    // the start, and where it stopped
  ResumeToTheEnd(Config());
}

// Issue 24: a resume seals frames from the journal point on under the interrupted run's key and
// frame indices (the AES-GCM nonces), and the killed run may have sealed and written frames
// past that point. With other settings, it would seal other plaintext under those nonces
// (keystream reuse; GCM's authentication key leaks). It is refused, and whatever runs, a
// (key, nonce) pair never seals two different frames: the frames the killed run left in its
// container and those of the final output, index for index, are the same bytes.
TEST_F(Resume, AResumeWithOtherSettingsIsRefusedAndNoNonceSealsTwoPlaintexts) {
  JobConfig config = Config();
  // One point, the start's (a run killed in its first seconds): every frame lies past it.
  config.journal_interval = std::chrono::hours(1);
  fs::path temp;
  KillMidRun(config, [&] {
    if (temp.empty() && Points(journal_) == 1) temp = TemporaryOf(output_);  // made before
    std::error_code error;  // the temporary file, until the run wrote three frames to it
    return !temp.empty() && fs::exists(temp, error) && FramesOf(Slurp(temp)).size() >= 3;
  });
  ASSERT_EQ(Points(journal_), 1u);
  const std::string killed = Slurp(temp);

  JobConfig masked = config;
  masked.resume = true;
  masked.transform = stages::ParseTransform("mask", "name:keep_last=3");
  const Report refused = zcpipe::Run(masked);
  const ErrorEvent error = refused.error.value_or(ErrorEvent{});
  EXPECT_EQ(refused.status, JobStatus::kFailed);
  EXPECT_EQ(error.kind, ErrorKind::kConfiguration) << error.message;
  EXPECT_NE(error.message.find("transforms"), std::string::npos);
  EXPECT_NE(error.message.find("drop --resume"), std::string::npos);
  EXPECT_TRUE(fs::exists(journal_) && fs::exists(temp)) << "kept for a resume that fits";

  // Refused, it published nothing: the same settings continue it. (Not refused, what it
  // published is compared below.)
  if (!fs::exists(output_)) ResumeToTheEnd(config, kFromTheStart);
  const std::string output = Slurp(output_);
  ASSERT_EQ(killed.substr(0, 72), output.substr(0, 72)) << "one file salt: the same keys";
  const auto after = FramesOf(output);
  std::size_t resealed = 0;
  for (const auto& [nonce, frame] : FramesOf(killed)) {
    const auto it = after.find(nonce);
    if (it == after.end()) continue;
    ++resealed;
    EXPECT_TRUE(it->second == frame) << "frame " << nonce.first << " sealed twice, differently";
  }
  EXPECT_GE(resealed, 3u);
}

}  // namespace
}  // namespace zcpipe
