// SettingsDigest: every class of settings that decides an import's plaintext changes its
// digest, and a refusal names the class (issue 24); the hashing key never appears.
#include "settings_digest.h"

#include <gtest/gtest.h>

#include <vector>

#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::detail {
namespace {

const stages::Schema kSchema = stages::Schema::Parse("id:int64,email:string");

SettingsDigest Of(const JobConfig& config) {
  return SettingsDigest::Of(config, InputFormat::kCsv, kSchema);
}

std::vector<std::byte> Key(unsigned char fill) {
  return std::vector<std::byte>(32, std::byte{fill});
}

TEST(SettingsDigest, EqualSettingsGiveEqualDigestsThroughTheJournalLine) {
  JobConfig config;
  config.transform = stages::ParseTransform("hash", "email", Key(1));
  const auto digest = Of(config);
  EXPECT_EQ(digest, Of(config));
  EXPECT_EQ(SettingsDigest::FromLine(digest.ToLine()), digest);
  EXPECT_EQ(ResumeRefusal(digest, digest.ToLine()), std::nullopt);
  EXPECT_EQ(SettingsDigest::FromLine("format=ab schema=cd"), std::nullopt);
}

TEST(SettingsDigest, EachClassOfSettingsIsNamedWhenItChanges) {
  JobConfig base;
  base.transform = stages::ParseTransform("mask", "email");
  const auto changed = [&](auto change) {
    JobConfig config = base;
    change(config);
    return ResumeRefusal(Of(config), Of(base).ToLine()).value_or("not refused");
  };
  EXPECT_NE(changed([](JobConfig& c) { c.delimiter = ';'; }).find("input format"),
            std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) { c.header = false; }).find("input format"),
            std::string::npos);
  // Issue 25: the same bytes in another encoding are other text.
  EXPECT_NE(
      changed([](JobConfig& c) { c.encoding = stages::Encoding::kLatin1; }).find("--encoding"),
      std::string::npos);
  // Issue 25: the rest of the CSV dialect, and the dialect sniffed when none is given.
  EXPECT_NE(changed([](JobConfig& c) { c.quote = '\''; }).find("input format"), std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) { c.strict = true; }).find("input format"), std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) { c.decimal_comma = true; }).find("input format"),
            std::string::npos);
  const auto sniffed = ResumeRefusal(
      SettingsDigest::Of(base, InputFormat::kCsv, kSchema, stages::CsvDialect{.delimiter = '\t'}),
      Of(base).ToLine());
  EXPECT_NE(sniffed.value_or("").find("the dialect sniffed"), std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) {
              c.transform = stages::ParseTransform("mask", "email:keep_last=3");
            }).find("transforms"),
            std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) { c.transform = nullptr; }).find("transforms"),
            std::string::npos);
  EXPECT_NE(changed([](JobConfig& c) { c.on_error = ErrorPolicy::kSkip; }).find("error policy"),
            std::string::npos);
  const auto refusal =
      ResumeRefusal(SettingsDigest::Of(base, InputFormat::kJsonl, kSchema), Of(base).ToLine());
  EXPECT_NE(refusal.value_or("").find("input format"), std::string::npos);
  const auto schema = ResumeRefusal(
      SettingsDigest::Of(base, InputFormat::kCsv, stages::Schema::Parse("id:string,email:string")),
      Of(base).ToLine());
  EXPECT_NE(schema.value_or("").find("schema"), std::string::npos);
  EXPECT_NE(schema.value_or("").find("drop --resume"), std::string::npos);
  // A journal whose settings line is not one is refused, not trusted.
  EXPECT_NE(ResumeRefusal(Of(base), "garbage"), std::nullopt);
}

TEST(SettingsDigest, TheHashKeyCountsByItsIdAndIsNeverWritten) {
  JobConfig one, two;
  one.transform = stages::ParseTransform("hash", "email", Key(1));
  two.transform = stages::ParseTransform("hash", "email", Key(2));
  EXPECT_NE(ResumeRefusal(Of(two), Of(one).ToLine()).value_or("").find("hash key"),
            std::string::npos);
  const std::string line = Of(one).ToLine();
  EXPECT_EQ(line.find(std::string(32, '\1')), std::string::npos);
  std::string hex;  // the key as hex, 32 times "01"
  for (int i = 0; i < 32; ++i) hex += "01";
  EXPECT_EQ(line.find(hex), std::string::npos);
}

}  // namespace
}  // namespace zcpipe::detail
