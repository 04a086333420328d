// Imports whose transform makes batches larger than their input (issue 22): a hash of narrow
// columns failed every import with "batch needs up to N bytes, the block has M", whatever the
// chunk or arena size. Each transform's output now continues in another block, in process and
// in worker processes alike, and both placements write the same frames.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;

// A transform of the user's that appends a column 40 times as wide as `customer`, made by
// name so that workers can make it too.
class Widen final : public stages::Transform {
 public:
  stages::Schema OutputSchema(const stages::Schema& input) const override {
    auto columns = input.columns();
    columns.push_back({"wide", stages::ColumnType::kString});
    return stages::Schema(columns);
  }
  stages::StageResult<stages::TransformOutput> Apply(const stages::BatchView& in,
                                                     std::span<std::byte> out,
                                                     stages::InputErrors&) const override {
    const auto columns = OutputSchema(in.schema()).columns();
    stages::TransformWriter writer(in, columns);
    for (std::uint32_t r = 0; r < in.row_count(); ++r) {
      for (std::size_t c = 0; c < in.column_count(); ++c) writer.CopyValue(c, in.column(c), r);
      std::string wide;
      for (int i = 0; i < 40; ++i) wide += in.column(1).string(r);
      writer.column(in.column_count()).AppendString(wide);
      writer.EndRow(r);
    }
    return writer.Finish(out, 0, 0);
  }
};
const bool kWiden = stages::RegisterTransformKind(
    "test.widen", [](std::string_view) { return std::make_unique<Widen>(); });

const std::array<std::byte, stages::kHashKeySize> kHashKey{std::byte{9}};

class WidenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("widen");
    fs::create_directories(dir_);
    key_ = testing::TestKey();
    // Narrow columns: a hashed value takes 64 characters, 15 to 30 times its CSV.
    std::ofstream out(dir_ / "in.csv", std::ios::binary);
    out << "id,customer,ok,n,code\n";
    for (int i = 0; i < 60'000; ++i) {
      out << i % 10 << ",c" << i % 7 << "," << (i % 3 == 0 ? "true" : "false") << ","
          << (i % 500 == 7 ? "x" : std::to_string(i % 10)) << "," << static_cast<char>('a' + i % 26)
          << "\n";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  JobConfig Config(std::shared_ptr<const stages::Transform> transform) const {
    JobConfig config;
    config.input = dir_ / "in.csv";
    config.schema = stages::Schema::Parse("id:string,customer:string,ok:bool,n:string,code:string");
    config.transform = std::move(transform);
    config.chunk_size = 64 << 10;
    config.arena_size = 16 << 20;
    config.threads = 2;
    config.workers = 2;
    config.on_error = ErrorPolicy::kQuarantine;
    config.credential = key_;
    config.replace_output = true;
    return config;
  }

  struct Result {
    Report report;
    std::vector<std::string> frames;
    std::string rejects;
  };
  Result Run(JobConfig config, const std::string& name) const {
    config.output = dir_ / (name + ".zcp");
    config.rejects = dir_ / (name + ".rejects");
    Result result{zcpipe::Run(config), {}, {}};
    if (result.report.status != JobStatus::kSucceeded) return result;
    auto reader = stages::ContainerReader::Open(config.output, *key_);
    EXPECT_TRUE(reader) << (reader ? "" : stages::Describe(reader.error()));
    while (reader) {
      auto chunk = reader->Next();
      EXPECT_TRUE(chunk) << (chunk ? "" : stages::Describe(chunk.error()));
      if (!chunk || !*chunk) break;
      const auto bytes = (*chunk)->plaintext;
      result.frames.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::stringstream rejects;
    rejects << std::ifstream(config.rejects).rdbuf();
    result.rejects = rejects.str();
    return result;
  }

  static std::string Describe(const Report& report) {
    return std::string(Name(report.status)) + ": " + (report.error ? report.error->message : "");
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
};

std::shared_ptr<const stages::Transform> Chain(
    std::vector<std::pair<const char*, const char*>> steps) {
  std::vector<std::unique_ptr<stages::Transform>> chain;
  for (const auto& [kind, spec] : steps)
    chain.push_back(stages::ParseTransform(kind, spec, kHashKey));
  return std::make_shared<stages::TransformChain>(std::move(chain));
}

TEST_F(WidenTest, EveryTransformThatWidensImportsTheSameInEveryPlacement) {
  const struct {
    const char* name;
    std::shared_ptr<const stages::Transform> transform;
  } cases[] = {
      {"hash", Chain({{"hash", "id,customer,ok,code"}})},
      {"cast", Chain({{"cast", "ok:string,n:int64"}, {"hash", "code"}})},
      {"user", Chain({{"test.widen", ""}, {"hash", "ok"}, {"cast", "n:int64"}})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto local = Run(Config(c.transform), std::string(c.name) + "-local");
    ASSERT_EQ(local.report.status, JobStatus::kSucceeded) << Describe(local.report);
    const auto& totals = local.report.totals;
    EXPECT_EQ(totals.rows_in, 60'000U);
    EXPECT_EQ(totals.rows_in, totals.rows_out + totals.rows_rejected + totals.rows_filtered);
    // More frames than chunks: batches continued in other blocks.
    EXPECT_GT(local.frames.size(), 2 * totals.chunks_done);
    for (const auto transport : {Transport::kZeroCopy, Transport::kCopy}) {
      auto config = Config(c.transform);
      config.placement = Placement::kIsolated;
      config.transport = transport;
      const auto isolated = Run(config, std::string(c.name) + "-isolated");
      ASSERT_EQ(isolated.report.status, JobStatus::kSucceeded) << Describe(isolated.report);
      EXPECT_EQ(isolated.report.totals.rows_out, totals.rows_out);
      EXPECT_EQ(isolated.report.totals.rows_rejected, totals.rows_rejected);
      EXPECT_EQ(isolated.frames.size(), local.frames.size());
      EXPECT_TRUE(isolated.frames == local.frames) << "the frames differ";
      EXPECT_EQ(isolated.rejects, local.rejects);
    }
  }
}

TEST_F(WidenTest, ARowWhoseOutputFitsNoBlockIsRejectedNotTheJob) {
  // One row's customer is 40 KiB: widened 40 times it outgrows any block of 64 KiB chunks.
  {
    std::ofstream out(dir_ / "in.csv", std::ios::binary | std::ios::app);
    out << "1," << std::string(40 << 10, 'w') << ",true,1,a\n";
  }
  for (const auto placement : {Placement::kInProcess, Placement::kIsolated}) {
    auto config = Config(Chain({{"test.widen", ""}}));
    config.placement = placement;
    const auto result = Run(config, "big");
    ASSERT_EQ(result.report.status, JobStatus::kSucceeded) << Describe(result.report);
    EXPECT_EQ(result.report.totals.rows_rejected, 1U);  // n is not cast here: "x" is fine
    EXPECT_NE(result.rejects.find("\"line\":60002,"), std::string::npos) << result.rejects;
    EXPECT_NE(result.rejects.find("record too large"), std::string::npos) << result.rejects;
  }
}

}  // namespace
}  // namespace zcpipe
