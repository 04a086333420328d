// In-process and isolated stages give the same result on every input (issue 22): a corpus of
// odd inputs runs in-process, isolated with the zero-copy transport and isolated with the copy
// transport, under each error policy; the reports, the error events, the rejects files and the
// exports must be the same, byte for byte.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = 4096;  // the least: a row of a few KiB outgrows it

// One input of the corpus, with the settings it runs with.
struct Case {
  std::string name;  // the file's name: its extension gives the format
  std::string text;
  std::optional<std::string> schema = std::nullopt;  // inferred when absent
  std::string transform = {};                        // "KIND SPEC" of a transform, if any
  bool header = true;                                // CSV
  char delimiter = ',';                              // CSV
};

constexpr char kJunk[] = "\xff\xfe\x00,\x01\n\x80\x81,\"\n";  // NUL, bad UTF-8, a lone quote

std::vector<Case> Corpus() {
  const std::string wide(kChunk * 3 / 2, 'w');  // a record bigger than a chunk, within a block
  const std::string huge(3 * kChunk * 2, 'h');  // a record bigger than a block
  std::string many_csv = "id,name\n", many_jsonl;
  for (int i = 0; i < 2000; ++i) {
    many_csv += std::to_string(i) +
                (i % 97 == 5 ? ",\"bad \"\"x\"\"\" y\n" : ",n" + std::to_string(i) + "\n");
    many_jsonl += i % 89 == 3 ? "[" + std::to_string(i) + "]\n"
                              : R"({"id":)" + std::to_string(i) + R"(,"v":")" +
                                    std::string(i % 13, 'v') + "\"}\n";
  }
  return {
      {"empty.csv", ""},
      {"empty_with_schema.csv", "", "a:int64,b:string"},
      {"header_only.csv", "a,b\n"},
      {"header_only_no_newline.csv", "a,b"},
      {"blank_lines.csv", "a,b\n\n\n1,x\n\n"},
      {"all_bad.csv", "a,b\nx,1\ny,2\nz,3\n", "a:int64,b:int64"},
      {"ragged.csv", "a,b\n1\n1,2,3\n4,5\n"},
      {"quoted_newlines.csv", "a,b\n1,\"line\nbreak\"\n2,\"a \"\"quote\"\"\r\nand crlf\"\n3,z\n"},
      {"crlf.csv", "a,b\r\n1,x\r\n2,y\r\n"},
      // Workers read the header from the first record SplitRecords cuts (issue 23).
      {"quoted_header_semicolons.csv", "id;\"na\nme\"\n1;\"x\ny\"\n2;z\n", std::nullopt, "", true,
       ';'},
      {"stray_quote_in_header.csv", "a\"b,\"c\nd\"\n1,2\n3,4\n"},
      {"quoted_header_after_bom.csv", "\xEF\xBB\xBF\"i\nd\",n\n1,x\n2,\"y\"\n"},
      {"unterminated_quote.csv", "a,b\n1,\"never closed\n2,y\n"},
      {"wide_row.csv", "a,b\n1,x\n2," + wide + "\n3,z\n"},
      {"huge_row.csv", "a,b\n1,x\n2," + huge + "\n3,z\n"},
      {"huge_first_row.csv", "a,b\n1," + huge + "\n3,z\n"},
      {"junk.csv", std::string(kJunk, sizeof kJunk - 1)},
      {"many.csv", many_csv, "id:int64,name:string", "filter id >= 10"},
      {"many_inferred.csv", many_csv},
      {"cast_rejects.csv", "a,b\n1,2\n2,x\n3,4\n4,\n", std::nullopt, "cast b:int64"},
      {"no_header.csv", "1;x\n2;y;z\n3\n", std::nullopt, "", false, ';'},
      {"filter_drops_all.csv", many_csv, "id:int64,name:string", "filter id < 0"},
      {"empty.jsonl", ""},
      {"empty_with_schema.jsonl", "", "a:int64"},
      {"blank.jsonl", "\n\n  \n"},
      {"junk.jsonl", "not json\nalso not json\n"},
      {"junk_with_schema.jsonl", "not json\nalso not json\n", "a:int64"},
      {"non_objects.jsonl", "[1,2]\n\"s\"\n3\nnull\n"},
      {"mix.jsonl", "{\"a\":1}\n[1]\n\n{\"a\":{\"b\":2}}\nx\n{\"a\":3,\"c\":\"z\"}\n"},
      {"nested.jsonl", R"({"a":{"b":[1,{"c":null}]},"d":1})"
                       "\n"
                       R"({"a":[],"d":2})"
                       "\n"},
      {"crlf.jsonl", "{\"a\":1}\r\n{\"a\":2}\r\n\r\n{\"a\":\"x\"}\r\n", "a:int64"},
      {"bad_utf8.jsonl", "{\"a\":\"ok\"}\n{\"a\":\"\xff\"}\n{\"a\":\"\\ud800\"}\n"},
      {"wide_row.jsonl", "{\"a\":1}\n{\"a\":\"" + wide + "\"}\n{\"a\":3}\n"},
      {"huge_row.jsonl", "{\"a\":1}\n{\"a\":\"" + huge + "\"}\n{\"a\":3}\n"},
      {"many.jsonl", many_jsonl, std::nullopt, "filter id >= 10"},
      {"no_final_newline.jsonl", "{\"a\":1}\n{\"a\":2}"},
  };
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every field of an error event but the job's id, as text.
std::string Describe(const ErrorEvent& e) {
  std::ostringstream out;
  out << Name(e.kind) << " " << Name(e.stage)
      << " chunk=" << (e.chunk ? std::to_string(*e.chunk) : "-") << " file=" << e.file
      << " line=" << e.line << " byte=" << e.byte_offset << " reason=" << e.reason
      << " message=" << e.message << " raw=" << e.raw;
  return out.str();
}

// What a run gave: everything that must not depend on where the stages ran.
struct Outcome {
  std::vector<std::string> summary;  // status, error, counts
  std::vector<std::string> events;   // every error event, in order
  std::string rejects, csv, jsonl;   // the rejects file, the container exported
};

class PlacementDiff : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("placement");
    fs::create_directories(dir_);
    key_ = testing::TestKey(std::byte{9});
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Run(const Case& c, const fs::path& input, ErrorPolicy policy, Placement placement,
              Transport transport) {
    JobConfig config;
    config.input = input;
    if (c.schema) config.schema = stages::Schema::Parse(*c.schema);
    if (const auto space = c.transform.find(' '); space != std::string::npos) {
      config.transform =
          stages::ParseTransform(c.transform.substr(0, space), c.transform.substr(space + 1));
    }
    config.header = c.header;
    config.delimiter = c.delimiter;
    config.output = dir_ / "out.zcp";
    config.replace_output = true;
    config.credential = key_;
    config.on_error = policy;
    config.rejects = dir_ / "rejects.jsonl";
    config.chunk_size = kChunk;
    config.arena_size = 64 * kChunk;
    config.threads = 2;
    config.workers = 2;
    config.placement = placement;
    config.transport = transport;
    // Each way keeps its arena and workers from one run to the next (a failed run drops them).
    auto& resources =
        resources_[placement == Placement::kInProcess ? 0 : 1 + static_cast<int>(transport)];
    if (!resources) resources = std::make_shared<JobResources>();
    config.resources = resources;
    std::mutex mutex;
    Outcome outcome;
    config.on_error_event = [&](const ErrorEvent& error) {
      std::lock_guard lock(mutex);
      outcome.events.push_back(Describe(error));
    };
    fs::remove(config.rejects);
    const Report report = zcpipe::Run(config);
    const auto& t = report.totals;
    outcome.summary = {std::string("status ") + Name(report.status),
                       "error " + (report.error ? Describe(*report.error) : "none"),
                       "rows_in " + std::to_string(t.rows_in),
                       "rows_out " + std::to_string(t.rows_out),
                       "rows_rejected " + std::to_string(t.rows_rejected),
                       "rows_filtered " + std::to_string(t.rows_filtered)};
    EXPECT_EQ(t.rows_in, t.rows_out + t.rows_rejected + t.rows_filtered) << input;
    if (report.error) {
      EXPECT_NE(report.error->message.find(input.string()), std::string::npos)
          << "the error names the input: " << report.error->message;
    }
    if (fs::exists(config.rejects)) outcome.rejects = Slurp(config.rejects);
    if (report.status == JobStatus::kSucceeded) {
      outcome.csv = Export(config.output, stages::ExportFormat::kCsv);
      outcome.jsonl = Export(config.output, stages::ExportFormat::kJsonl);
    }
    return outcome;
  }

  std::string Export(const fs::path& container, stages::ExportFormat format) {
    const fs::path out = dir_ / "export.txt";
    const auto exported =
        stages::ExportFile(container, out, *key_, {.format = format, .replace_existing = true});
    EXPECT_TRUE(exported) << container << ": " << (exported ? "" : Describe(exported.error()));
    return exported ? Slurp(out) : "(export failed)";
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
  std::shared_ptr<JobResources> resources_[3];
};

TEST_F(PlacementDiff, EveryInputGivesTheSameResultInProcessAndIsolatedWithEitherTransport) {
  for (const Case& c : Corpus()) {
    const fs::path input = dir_ / c.name;
    std::ofstream(input, std::ios::binary) << c.text;
    for (const auto policy : {ErrorPolicy::kFail, ErrorPolicy::kSkip, ErrorPolicy::kQuarantine}) {
      const auto where = c.name + " under policy " + std::to_string(static_cast<int>(policy));
      const Outcome local = Run(c, input, policy, Placement::kInProcess, Transport::kZeroCopy);
      for (const auto transport : {Transport::kZeroCopy, Transport::kCopy}) {
        const Outcome isolated = Run(c, input, policy, Placement::kIsolated, transport);
        const auto how = where + (transport == Transport::kCopy ? ", copy" : ", zero-copy");
        EXPECT_EQ(isolated.summary, local.summary) << how;
        EXPECT_EQ(isolated.events, local.events) << how;
        EXPECT_EQ(isolated.rejects, local.rejects) << how;
        EXPECT_EQ(isolated.csv, local.csv) << how;
        EXPECT_EQ(isolated.jsonl, local.jsonl) << how;
      }
    }
  }
}

}  // namespace
}  // namespace zcpipe
