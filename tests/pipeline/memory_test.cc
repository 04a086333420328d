// Memory stays bounded by the arena, not by the file: imports run in a forked child so that
// getrusage's peak RSS measures the import alone. The 2 GiB case is labelled "long".
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "child_process.h"
#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/export.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;

// A CSV in the exact form the exporter writes, so a round trip compares byte for byte.
void WriteCanonicalCsv(const fs::path& path, std::uint64_t bytes) {
  std::ofstream out(path, std::ios::binary);
  std::string text = "id,name,amount\n";
  for (std::uint64_t i = 0; text.size() < bytes; ++i) {
    text += std::to_string(i) + ",name-" + std::to_string(i % 100003) + "," +
            std::to_string(i % 100000) + (i % 2 ? ".5\n" : "\n");
    if (text.size() > (1u << 20)) {
      out << text;
      bytes -= text.size();
      text.clear();
    }
  }
  out << text;
}

bool SameFiles(const fs::path& a, const fs::path& b) {
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  std::vector<char> p(1 << 20), q(1 << 20);
  while (x && y) {
    x.read(p.data(), static_cast<std::streamsize>(p.size()));
    y.read(q.data(), static_cast<std::streamsize>(q.size()));
    if (x.gcount() != y.gcount() || !std::equal(p.begin(), p.begin() + x.gcount(), q.begin())) {
      return false;
    }
  }
  return x.eof() && y.eof();
}

struct Outcome {
  long peak_rss_kib = -1;
  bool succeeded = false;
};

Outcome ImportInChild(const fs::path& input, const fs::path& output,
                      std::shared_ptr<const stages::Credential> key, std::size_t arena,
                      std::size_t chunk) {
  testing::LinePipe pipe;
  testing::ChildProcess child = testing::ChildProcess::Fork([&] {
    JobConfig config;
    config.input = input;
    config.output = output;
    config.credential = key;
    config.arena_size = arena;
    config.chunk_size = chunk;
    config.threads = 2;
    const Report report = zcpipe::Run(config);
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    pipe.WriteLine(std::to_string(usage.ru_maxrss) + " " +
                   (report.status == JobStatus::kSucceeded ? "ok" : "failed"));
    return 0;
  });
  const auto line = pipe.ReadLine(std::chrono::minutes(10));
  EXPECT_EQ(child.ExitCode(std::chrono::minutes(1)), 0);
  Outcome outcome;
  if (line) {
    outcome.peak_rss_kib = std::stol(*line);
    outcome.succeeded = line->ends_with(" ok");
  }
  return outcome;
}

class MemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("memory");
    fs::create_directories(dir_);
    key_ = testing::TestKey(std::byte{3});
  }
  void TearDown() override { fs::remove_all(dir_); }

  void ImportAndCheck(std::uint64_t file_bytes, std::size_t arena, std::size_t chunk) {
    const fs::path input = dir_ / "in.csv", output = dir_ / "out.zcp", back = dir_ / "back.csv";
    WriteCanonicalCsv(input, file_bytes);
    const Outcome outcome = ImportInChild(input, output, key_, arena, chunk);
    ASSERT_TRUE(outcome.succeeded);
    // The arena, a few chunks of parser scratch per thread, and the runtime: not the file.
    const long bound_kib = static_cast<long>((arena + 16 * chunk) / 1024) + 64 * 1024;
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory and quarantine inflate RSS
    EXPECT_LT(outcome.peak_rss_kib, bound_kib) << "file " << file_bytes << " bytes";
#endif
    std::cout << "peak RSS " << outcome.peak_rss_kib / 1024 << " MiB, bound " << bound_kib / 1024
              << " MiB, file " << (file_bytes >> 20) << " MiB\n";
    ASSERT_TRUE(stages::ExportFile(output, back, *key_, {}));
    EXPECT_TRUE(SameFiles(input, back));
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
};

TEST_F(MemoryTest, A256MiBFileImportsInA32MiBArena) {
  ImportAndCheck(std::uint64_t{256} << 20, 32u << 20, 1u << 20);
}

TEST_F(MemoryTest, Long_A2GiBFileImportsInA256MiBArena) {
  if (std::getenv("ZCPIPE_LONG_TESTS") == nullptr) GTEST_SKIP() << "set ZCPIPE_LONG_TESTS=1";
  ImportAndCheck(std::uint64_t{2} << 30, 256u << 20, 4u << 20);
}

}  // namespace
}  // namespace zcpipe
