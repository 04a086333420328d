// A job that hashes or masks columns echoes its rejected rows (rejects file, error events,
// trace) without their plaintext, in both placements (issue 22).
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "base64.h"
#include "scratch.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using testing::Base64Decode;
using namespace std::chrono_literals;

// What the input holds in clear in its protected columns.
const std::vector<std::string> kSecrets = {"bob.secret@example.com", "4111111111111111",
                                           "9999secret", "pin-secret"};

// Good rows 1 and 7 around one bad row of each kind (the comment: its line).
constexpr std::string_view kCsv =
    "id,email,amount,card,salary,pin,name\n"
    "1,bob.secret@example.com,1.5,4111111111111111,1000.5,1234,bob\n"
    "2,bob.secret@example.com,oops,4111111111111111,1000.5,1234,bob\n"     // 3: another column
    "3,bob.secret@example.com,2.5,4111111111111111,9999secret,1234,bob\n"  // 4: a protected one
    "4,bob.secret@example.com,2.5,4111111111111111\n"                      // 5: field count
    "5,\"bob.secret@example.com\"x,2.5,4111111111111111,1,1234,bob\n"      // 6: quoting
    "6,bob.secret@example.com,2.5,4111111111111111,1,1234,b\xff\n"         // 7: not UTF-8
    "7,bob.secret@example.com,3.5,4111111111111111,1,1234,bob\n"
    "8,bob.secret@example.com,3.5,4111111111111111,1,pin-secret,bob\n";  // 9: cast in transform

constexpr std::string_view kJsonl =
    R"({"id":1,"email":"bob.secret@example.com","amount":1.5,"card":"4111111111111111",)"
    R"("salary":1000.5,"pin":"1234","name":"bob"})"
    "\n"
    R"({"id":2,"email":"bob.secret@example.com","amount":"oops","card":"4111111111111111",)"
    R"("salary":1000.5,"pin":"1234"})"
    "\n"
    R"({"id":3,"email":"bob.secret@example.com","salary":"9999secret","pin":"1234"})"
    "\n"
    R"({"id":4,"email":"bob.secret@example.com","card":"4111111111111111")"
    "\n"
    "{\"id\":6,\"email\":\"bob.secret@example.com\",\"name\":\"b\xff\"}\n"
    R"({"id":8,"email":"bob.secret@example.com","pin":"pin-secret"})"
    "\n";

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The secret `text` shows, if any.
std::string LeakIn(std::string_view text) {
  for (const auto& secret : kSecrets) {
    if (text.find(secret) != std::string_view::npos) return secret;
  }
  return {};
}

class RejectsRedaction : public ::testing::TestWithParam<Placement> {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("redaction-" + std::to_string(static_cast<int>(GetParam())));
    fs::create_directories(dir_);
    key_ = testing::TestKey();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `input` (written as `name`) through a job that renames email and hashes it, masks the
  // card, hashes the salary and (cast to int64 first) the pin, quarantining bad rows. Returns
  // the report; the rejects file's lines are in rejects_, the events in errors_.
  Report Import(const std::string& name, std::string_view input) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << input;
    JobConfig config;
    config.input = path;
    config.schema =
        stages::Schema::Parse("id:int64,email,amount:float64,card,salary:float64,pin,name");
    const std::string hash_key(32, 'h');
    const auto key = std::as_bytes(std::span(hash_key.data(), hash_key.size()));
    std::vector<std::unique_ptr<stages::Transform>> steps;
    steps.push_back(stages::ParseTransform("rename", "email:contact"));
    steps.push_back(stages::ParseTransform("hash", "contact", key));
    steps.push_back(stages::ParseTransform("mask", "card:keep_last=4"));
    steps.push_back(stages::ParseTransform("cast", "pin:int64"));
    steps.push_back(stages::ParseTransform("hash", "salary,pin", key));
    config.transform = std::make_shared<stages::TransformChain>(std::move(steps));
    config.placement = GetParam();
    config.workers = 2;
    config.threads = 2;
    config.on_error = ErrorPolicy::kQuarantine;
    config.rejects = dir_ / "rejects.jsonl";
    config.output = dir_ / "out.zcp";
    config.trace = dir_ / "trace.json";
    config.credential = key_;
    config.on_error_event = [this](const ErrorEvent& error) {
      std::lock_guard lock(mutex_);
      errors_.push_back(error);
    };
    const Report report = zcpipe::Run(config);
    std::istringstream lines(Read(config.rejects));
    for (std::string line; std::getline(lines, line);) rejects_.push_back(line);
    return report;
  }

  // Every file the job wrote, read whole, and every event: no secret in any. Every line of the
  // rejects file is a JSON object.
  void ExpectNoPlaintextAnywhere(const std::string& input) {
    for (const auto& line : rejects_) {
      simdjson::dom::object object;
      EXPECT_EQ(parser_.parse(line).get(object), simdjson::SUCCESS) << line;
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().filename() == input) continue;
      EXPECT_EQ(LeakIn(Read(entry.path())), "") << entry.path();
    }
    std::lock_guard lock(mutex_);
    for (const auto& error : errors_) {
      EXPECT_EQ(LeakIn(error.message), "") << error.message;
      EXPECT_EQ(LeakIn(error.raw), "") << error.raw;
    }
  }

  // The container's values of row `id`, by column, as exported to JSON Lines.
  std::map<std::string, std::string> Exported(std::int64_t id) {
    const auto exported = stages::ExportFile(dir_ / "out.zcp", dir_ / "export.jsonl", *key_,
                                             {.format = stages::ExportFormat::kJsonl});
    EXPECT_TRUE(exported);
    const std::string text = Read(dir_ / "export.jsonl");
    fs::remove(dir_ / "export.jsonl");
    simdjson::dom::parser parser;
    simdjson::dom::document_stream rows;
    EXPECT_EQ(parser.parse_many(text).get(rows), simdjson::SUCCESS);
    for (auto result : rows) {
      simdjson::dom::object row;
      if (result.get(row) != simdjson::SUCCESS || std::int64_t(row["id"]) != id) continue;
      std::map<std::string, std::string> values;
      for (const auto field : row) {
        values[std::string(field.key)] = field.value.is_string()
                                             ? std::string(std::string_view(field.value))
                                             : simdjson::minify(field.value);
      }
      return values;
    }
    ADD_FAILURE() << "no row " << id << " in " << text;
    return {};
  }

  // The rejects line about input line `line`, parsed (valid until the next call).
  simdjson::dom::object Rejected(std::uint64_t line) {
    for (const auto& text : rejects_) {
      simdjson::dom::object object;
      if (parser_.parse(text).get(object) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not a JSON object: " << text;
        continue;
      }
      if (std::uint64_t(object["line"]) == line) return object;
    }
    ADD_FAILURE() << "no rejects line for line " << line;
    return {};
  }

  static std::string Field(simdjson::dom::object object, std::string_view name) {
    std::string_view value;
    return object[name].get(value) == simdjson::SUCCESS ? std::string(value) : "(absent)";
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
  std::mutex mutex_;
  std::vector<ErrorEvent> errors_;
  std::vector<std::string> rejects_;
  simdjson::dom::parser parser_;
};

TEST_P(RejectsRedaction, CsvRowsShowProtectedValuesOnlyAsTheContainerHoldsThem) {
  const Report report = Import("in.csv", kCsv);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
  EXPECT_EQ(report.totals.rows_out, 2u);
  ASSERT_EQ(rejects_.size(), 6u);
  ExpectNoPlaintextAnywhere("in.csv");
  const auto held = Exported(1);
  const std::string contact = held.at("contact"), salary = held.at("salary");
  ASSERT_EQ(contact.size(), 64u);
  EXPECT_EQ(held.at("card"), "************1111");
  const std::string pin = held.at("pin");

  // A bad value in another column: the protected ones as the container holds them.
  const auto other = Rejected(3);
  EXPECT_EQ(Field(other, "raw"),
            "2," + contact + ",oops,************1111," + salary + "," + pin + ",bob");
  EXPECT_EQ(Field(other, "raw_redacted"), "fields");
  EXPECT_EQ(Field(other, "detail"), "\"oops\"");
  // A bad value in a protected column: hashed (from its text), and not in the detail.
  const auto own = Rejected(4);
  EXPECT_EQ(Field(own, "column"), "salary");
  EXPECT_EQ(Field(own, "raw").find("3," + contact + ",2.5,************1111,"), 0u)
      << Field(own, "raw");
  // Rows that do not split into their fields are withheld.
  for (const std::uint64_t line : {5, 6}) {
    EXPECT_EQ(Field(Rejected(line), "raw_redacted"), "row");
    EXPECT_EQ(Field(Rejected(line), "raw"), "(absent)");
  }
  // Not UTF-8: the rewritten row's exact bytes, in base64.
  const auto binary = Rejected(7);
  EXPECT_EQ(Field(binary, "raw"), "(absent)");
  EXPECT_EQ(
      Base64Decode(Field(binary, "raw_base64")),
      "6," + contact + ",2.5,************1111," + Exported(7).at("salary") + "," + pin + ",b\xff");
  // Rejected by the transform (the pin's cast): no raw text; the value is not in the detail.
  const auto cast = Rejected(9);
  EXPECT_EQ(Field(cast, "column"), "pin");
  EXPECT_EQ(Field(cast, "raw"), "");
}

TEST_P(RejectsRedaction, JsonLinesRowsShowProtectedValuesOnlyAsTheContainerHoldsThem) {
  const Report report = Import("in.jsonl", kJsonl);
  ASSERT_EQ(report.status, JobStatus::kSucceeded) << (report.error ? report.error->message : "");
  EXPECT_EQ(report.totals.rows_out, 1u);
  ASSERT_EQ(rejects_.size(), 5u);
  ExpectNoPlaintextAnywhere("in.jsonl");
  const auto held = Exported(1);
  const std::string contact = held.at("contact"), salary = held.at("salary"), pin = held.at("pin");
  EXPECT_EQ(Field(Rejected(2), "raw"),
            R"({"id":2,"email":")" + contact + R"(","amount":"oops","card":"************1111",)" +
                R"("salary":")" + salary + R"(","pin":")" + pin + R"("})");
  EXPECT_EQ(Field(Rejected(3), "column"), "salary");
  EXPECT_EQ(Field(Rejected(3), "detail").find("9999"), std::string::npos);
  EXPECT_EQ(Field(Rejected(4), "raw_redacted"), "row");  // not JSON
  EXPECT_EQ(Field(Rejected(5), "raw_redacted"), "row");  // not UTF-8: simdjson refuses it
}

INSTANTIATE_TEST_SUITE_P(Placements, RejectsRedaction,
                         ::testing::Values(Placement::kInProcess, Placement::kIsolated),
                         [](const auto& param) {
                           return param.param == Placement::kInProcess ? "InProcess" : "Isolated";
                         });

}  // namespace
}  // namespace zcpipe
