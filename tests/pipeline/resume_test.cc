// Kill an import with SIGKILL mid-run, resume it, and get exactly what an uninterrupted run
// gives.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "child_process.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/export.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Slows every batch down so that the test can kill the import in the middle.
class Slow final : public stages::Transform {
 public:
  stages::Schema OutputSchema(const stages::Schema& input) const override { return input; }
  stages::StageResult<stages::TransformOutput> Apply(const stages::BatchView& in,
                                                     std::span<std::byte> out,
                                                     stages::InputErrors& rejected) const override {
    std::this_thread::sleep_for(2ms);
    return copy_.Apply(in, out, rejected);
  }

 private:
  stages::SelectTransform copy_{{"id", "name", "amount"}};
};

std::size_t Points(const fs::path& journal) {
  std::ifstream in(journal);
  std::string line;
  std::size_t points = 0;
  while (std::getline(in, line)) points += line.starts_with("point ") && line.ends_with(" end");
  return points;
}

std::string Slurp(const fs::path& path) {
  std::stringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  return text.str();
}

TEST(Resume, AKilledImportResumesToTheSameResult) {
  const fs::path dir = fs::temp_directory_path() / ("zcpipe-resume-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path input = dir / "in.csv", output = dir / "out.zcp";
  {
    std::ofstream out(input, std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < 100000; ++i) out << i << ",name-" << i << "," << i % 997 << "\n";
  }
  std::vector<std::byte> bytes(32, std::byte{5});
  auto key = std::make_shared<const stages::Credential>(
      stages::Credential::FromKey(std::move(*stages::FileKey::FromBytes(bytes))));
  JobConfig config;
  config.input = input;
  config.output = output;
  config.credential = key;
  config.schema = stages::Schema::Parse("id:int64,name:string,amount:int64");
  config.transform = std::make_shared<Slow>();
  config.chunk_size = 16 << 10;
  config.arena_size = 2 << 20;
  config.threads = 2;
  config.journal_interval = 0ms;  // a commit point after every chunk

  testing::ChildProcess doomed = testing::ChildProcess::Fork([&] {
    (void)zcpipe::Run(config);
    return 0;
  });
  const fs::path journal = dir / ".out.zcp.journal";
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Points(journal) < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  doomed.Kill(SIGKILL);
  ASSERT_TRUE(doomed.Wait());
  ASSERT_GE(Points(journal), 20u) << "the import never got going";
  ASSERT_FALSE(fs::exists(output));  // nothing published by the killed run
  // The killed process could not remove its arena: do what `zcpipe gc` does, for its pid only.
  for (const auto& entry : fs::directory_iterator("/dev/shm")) {
    if (entry.path().filename().string().starts_with("zcpipe." + std::to_string(doomed.pid()) +
                                                     ".")) {
      fs::remove(entry.path());
    }
  }

  config.resume = true;
  const Report report = zcpipe::Run(config);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
  EXPECT_EQ(report.totals.rows_in, 100000u);
  EXPECT_EQ(report.totals.rows_out, 100000u);
  // It did resume: this run read fewer chunks than the import has.
  EXPECT_LT(report.totals.stages[static_cast<int>(Stage::kRead)].chunks, report.totals.chunks_done);
  EXPECT_FALSE(fs::exists(journal));

  ASSERT_TRUE(stages::ExportFile(output, dir / "back.csv", *key, {}));
  EXPECT_TRUE(Slurp(dir / "back.csv") == Slurp(input));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 3u);  // in.csv, out.zcp, back.csv: no temporary file left
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zcpipe
