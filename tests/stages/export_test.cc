#include "zcpipe/stages/export.h"
#include "zcpipe/stages/batch.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "csv_harness.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"

namespace zcpipe::stages {
namespace {

namespace fs = std::filesystem;

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("zcpipe-export-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Credential Key(std::uint8_t fill) {
    std::vector<std::byte> bytes(32, std::byte{fill});
    return Credential::FromKey(std::move(*FileKey::FromBytes(bytes)));
  }

  // CSV text -> .zcp the way the pipeline will: chunk, parse, one sealed chunk per batch.
  fs::path Import(const std::string& csv, const CsvOptions& options, const Credential& key) {
    const fs::path input = dir_ / "in.csv", output = dir_ / "out.zcp";
    std::ofstream(input, std::ios::binary) << csv;
    auto chunker = Chunker::Open(input, {.chunk_size = 64});  // many small chunks
    std::vector<std::uint64_t> in_words(1 << 14), out_words(1 << 14);
    const auto in = std::as_writable_bytes(std::span(in_words));
    const auto out = std::as_writable_bytes(std::span(out_words));
    std::optional<CsvParser> parser;
    std::vector<std::vector<std::byte>> batches;
    while (auto next = chunker->Next(in)) {
      if (!*next) break;
      if (!parser) parser = CsvParser::Create(options, **next);
      auto parsed = parser->Parse(**next, out);
      EXPECT_TRUE(parsed && parsed->rejected.empty());
      batches.emplace_back(parsed->batch.begin(), parsed->batch.end());
    }
    auto writer = ContainerWriter::Create(output, key, {.schema = parser->schema().ToString()});
    EXPECT_TRUE(writer);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      EXPECT_TRUE(writer->Write(batches[i], i + 1 == batches.size()));
    }
    EXPECT_TRUE(writer->Commit());
    return output;
  }

  static std::string Slurp(const fs::path& path) {
    std::stringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
  }

  fs::path dir_;
};

TEST_F(ExportTest, AllStringCsvRoundTripIsExact) {
  const std::string csv =
      "id,note,empty\n"
      "1,plain,\n"
      "2,\"with, comma\",\"\"\n"
      "3,\"quote \"\" and\nnewline\",x\n"
      "4,\" padded \",y\n";
  const auto zcp = Import(csv,
                          {.delimiter = ',',
                           .header = true,
                           .schema = Schema::Parse("id:string,note:string,empty:string")},
                          Key(1));
  const fs::path back = dir_ / "back.csv";
  auto report = ExportFile(zcp, back, Key(1), {});
  ASSERT_TRUE(report) << Describe(report.error());
  EXPECT_EQ(report->rows, 4u);
  EXPECT_EQ(Slurp(back), csv);
}

TEST_F(ExportTest, TypedCsvRoundTripKeepsEveryValue) {
  const std::string csv =
      "id,amount,ok,at,name,d,local\n"
      "1,2.5,true,2024-03-01T12:00:00Z,a,2024-03-01,2024-03-01T12:00:00\n"
      "-9223372036854775808,0.1,false,1969-12-31T23:59:59.000001Z,,1969-12-31,"
      "1969-12-31 23:59:59.000001\n"
      "3,,,,\"\",,\n"
      "4,1e300,true,2024-02-29T00:00:00+00:00,é,0000-01-01,9999-12-31T23:59:59.999999\n";
  const CsvOptions options{
      .delimiter = ',',
      .header = true,
      .schema =
          Schema::Parse("id:int64,amount:float64,ok:bool,at:timestamp,name,d:date,local:datetime")};
  const auto zcp = Import(csv, options, Key(2));
  const fs::path back = dir_ / "back.csv";
  ASSERT_TRUE(ExportFile(zcp, back, Key(2), {}));
  const auto original = testing::ParseCsv(csv, options);
  const auto exported = testing::ParseCsv(Slurp(back), options);
  EXPECT_EQ(exported.rows, original.rows);
  EXPECT_TRUE(exported.rejected.empty());
}

// Issue 25: a date exports as a date, a local time without zone, an instant in UTC.
TEST_F(ExportTest, JsonLinesOutput) {
  const auto zcp = Import(
      "id,name,at,x,d,local\n"
      "1,\"a\"\"b\\c\",2024-03-01T01:00:00+01:00,1.5,2024-03-01,2024-03-01 01:00:00\n"
      "2,,,,,\n",
      {.delimiter = ',',
       .header = true,
       .schema = Schema::Parse("id:int64,name,at:timestamp,x:float64,d:date,local:datetime")},
      Key(3));
  const fs::path back = dir_ / "back.jsonl";
  ASSERT_TRUE(ExportFile(zcp, back, Key(3), {.format = ExportFormat::kJsonl}));
  EXPECT_EQ(Slurp(back),
            "{\"id\":1,\"name\":\"a\\\"b\\\\c\",\"at\":\"2024-03-01T00:00:00Z\",\"x\":1.5,"
            "\"d\":\"2024-03-01\",\"local\":\"2024-03-01T01:00:00\"}\n"
            "{\"id\":2,\"name\":null,\"at\":null,\"x\":null,\"d\":null,\"local\":null}\n");
}

TEST_F(ExportTest, AWrongKeyOrDamageLeavesNoOutput) {
  const auto zcp = Import("a\n1\n2\n", {}, Key(4));
  const fs::path back = dir_ / "back.csv";
  auto wrong = ExportFile(zcp, back, Key(5), {});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ContainerErrc::kWrongKey);

  std::string bytes = Slurp(zcp);
  bytes[bytes.size() - 3] ^= 1;  // inside the last chunk's tag
  std::ofstream(zcp, std::ios::binary | std::ios::trunc) << bytes;
  auto damaged = ExportFile(zcp, back, Key(4), {});
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ContainerErrc::kTamperedChunk);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 2u);  // in.csv and out.zcp: no output, no temporary file
}

TEST_F(ExportTest, ACancelledExportLeavesNoOutput) {
  const auto zcp = Import("a\n1\n2\n", {}, Key(7));
  const fs::path back = dir_ / "back.csv";
  const std::atomic<bool> cancel{true};
  auto cancelled = ExportFile(zcp, back, Key(7), {.cancel = &cancel});
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ContainerErrc::kCancelled);
  EXPECT_EQ(Describe(cancelled.error()), "cancelled: stopped before chunk 0");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 2u);  // in.csv and out.zcp: no output, no temporary file
}

TEST_F(ExportTest, NeverOverItsOwnContainer) {
  const auto zcp = Import("a\n1\n2\n", {}, Key(7));
  const auto size = fs::file_size(zcp);
  fs::create_symlink(zcp, dir_ / "link.csv");
  auto onto_itself = ExportFile(zcp, dir_ / "link.csv", Key(7), {.replace_existing = true});
  ASSERT_FALSE(onto_itself);
  EXPECT_EQ(onto_itself.error().code, ContainerErrc::kInvalidArgument);
  EXPECT_EQ(onto_itself.error().message, "the output is the container");
  EXPECT_EQ(fs::file_size(zcp), size);
}

// A quote, CR, LF or NUL between fields would make a file that does not read back as written.
TEST_F(ExportTest, RefusesADelimiterThatCannotSeparateFields) {
  const auto zcp = Import("a,b\n1,2\n", {}, Key(7));
  for (const char delimiter : {'"', '\n', '\r', '\0'}) {
    auto refused = ExportFile(zcp, dir_ / "out.csv", Key(7), {.delimiter = delimiter});
    ASSERT_FALSE(refused) << int{delimiter};
    EXPECT_EQ(refused.error().code, ContainerErrc::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
  EXPECT_TRUE(ExportFile(zcp, dir_ / "out.csv", Key(7), {.delimiter = ';'}));
}

TEST_F(ExportTest, ChunksThatAreNotBatchesAreRefused) {
  const fs::path zcp = dir_ / "raw.zcp";
  auto writer = ContainerWriter::Create(zcp, Key(6), {.schema = "a:int64"});
  ASSERT_TRUE(writer);
  const std::string junk = "not a record batch";
  ASSERT_TRUE(writer->Write(std::as_bytes(std::span(junk)), true));
  ASSERT_TRUE(writer->Commit());
  auto result = ExportFile(zcp, dir_ / "out.csv", Key(6), {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ContainerErrc::kNotRecordBatches);
  EXPECT_EQ(result.error().chunk_index, 0u);
}

// A batch whose column names a Schema would refuse (repeated, not UTF-8) is a mismatch with the
// header, reported as such: comparing them must not throw.
TEST_F(ExportTest, BatchColumnsThatNoSchemaCouldHoldAreRefused) {
  for (const std::string second : {"a", "\xff"}) {
    std::vector<ColumnBuffer> columns;
    columns.emplace_back("a", ColumnType::kInt64);
    columns.emplace_back(second, ColumnType::kInt64);
    for (auto& column : columns) column.AppendInt64(1);
    std::vector<std::byte> block(1 << 12);
    const auto batch = WriteBatch(block, {}, columns, {});
    ASSERT_TRUE(batch) << batch.error().message;

    const fs::path zcp = dir_ / "odd.zcp";
    auto writer = ContainerWriter::Create(zcp, Key(6),
                                          {.schema = "a:int64,b:int64", .replace_existing = true});
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->Write(*batch, true));
    ASSERT_TRUE(writer->Commit());
    auto result = ExportFile(zcp, dir_ / "out.csv", Key(6), {});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ContainerErrc::kNotRecordBatches);
    EXPECT_EQ(result.error().message,
              "the batch's columns differ from the header's a:int64,b:int64");
  }
}

}  // namespace
}  // namespace zcpipe::stages
