// Redactor: rejected rows echoed without the plaintext of protected columns (issue 22).
#include "zcpipe/stages/redact.h"

#include <openssl/evp.h>

#include <array>

#include <gtest/gtest.h>

#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::stages {
namespace {

const std::string kKey(32, 'k');

std::span<const std::byte> Key() { return std::as_bytes(std::span(kKey.data(), kKey.size())); }

// Lowercase hex HMAC-SHA-256 under kKey, computed by OpenSSL: what --hash writes.
std::string Hmac(std::string_view value) {
  std::array<unsigned char, 32> mac{};
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kKey.data(), kKey.size(),
            reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac.data(),
            mac.size(), &size);
  std::string hex;
  for (const unsigned char byte : mac) {
    hex += "0123456789abcdef"[byte >> 4];
    hex += "0123456789abcdef"[byte & 0xF];
  }
  return hex;
}

std::shared_ptr<Transform> Chain(std::vector<std::pair<std::string, std::string>> steps) {
  std::vector<std::unique_ptr<Transform>> transforms;
  for (const auto& [kind, spec] : steps) transforms.push_back(ParseTransform(kind, spec, Key()));
  return std::make_shared<TransformChain>(std::move(transforms));
}

const Schema kSchema = Schema::Parse("id:int64,email,amount:float64,card,salary:float64");

Redactor Csv(const Transform& transform, std::vector<int> fields = {0, 1, 2, 3, 4}) {
  return Redactor(&transform, kSchema, {true, ',', std::move(fields)});
}

InputError Row(InputErrc reason, std::string column, std::string detail, std::string raw) {
  return {reason, 2, 100, std::move(column), std::move(detail), std::move(raw)};
}

// --hash email --mask card:keep_last=4 --hash salary, with email renamed first.
std::shared_ptr<Transform> Protecting() {
  return Chain({{"rename", "email:contact"},
                {"hash", "contact"},
                {"mask", "card:keep_last=4"},
                {"hash", "salary"}});
}

TEST(Redactor, CsvProtectedFieldsAreHashedOrMaskedTheOthersKeptByteForByte) {
  const auto transform = Protecting();
  const auto redactor = Csv(*transform);
  ASSERT_TRUE(redactor.protects());
  auto row = Row(InputErrc::kBadFloat64, "amount", "\"oops\"",
                 R"(7,"bob.secret@example.com",oops,4111111111111111,1000.50)");
  EXPECT_EQ(redactor.Redact(row), RawEcho::kRewritten);
  // A float64 is hashed as its canonical text, as the container holds it (1000.5).
  EXPECT_EQ(row.raw,
            "7," + Hmac("bob.secret@example.com") + ",oops,************1111," + Hmac("1000.5"));
  EXPECT_EQ(row.detail, "\"oops\"") << "the column is not protected";
}

TEST(Redactor, ABadValueInAProtectedColumnIsHashedAsTextAndItsDetailWithheld) {
  const auto transform = Protecting();
  auto row = Row(InputErrc::kBadFloat64, "salary", "\"9999secret\"",
                 "7,bob.secret@example.com,1.5,,9999secret");
  EXPECT_EQ(Csv(*transform).Redact(row), RawEcho::kRewritten);
  EXPECT_EQ(row.raw, "7," + Hmac("bob.secret@example.com") + ",1.5,," + Hmac("9999secret"))
      << "a null card stays null";
  EXPECT_EQ(row.detail.find("9999"), std::string::npos) << row.detail;
  // A transform names a protected column as it is called at its step: 'contact'.
  auto cast = Row(InputErrc::kBadInt64, "contact", "\"bob.secret@example.com\"", "");
  EXPECT_EQ(Csv(*transform).Redact(cast), RawEcho::kAsRead);
  EXPECT_EQ(cast.detail.find("bob"), std::string::npos) << cast.detail;
}

// Issue 25: the redactor splits a row by the parser's own rule (a quote inside an unquoted
// field is text) and by the job's quote, so a protected value with such a quote is hashed as
// the container holds it, and one in '-quoted fields is never echoed with its quotes around it.
TEST(Redactor, CsvQuotesAreReadAsTheParserReadsThem) {
  const auto transform = Protecting();
  auto stray = Row(InputErrc::kBadFloat64, "amount", "\"oops\"",
                   "7,bob's \"secret\"@example.com,oops,4111111111111111,1");
  EXPECT_EQ(Csv(*transform).Redact(stray), RawEcho::kRewritten);
  EXPECT_EQ(stray.raw,
            "7," + Hmac("bob's \"secret\"@example.com") + ",oops,************1111," + Hmac("1"));
  const Redactor single(transform.get(), kSchema, {true, ';', {0, 1, 2, 3, 4}, '\''});
  auto quoted = Row(InputErrc::kBadFloat64, "amount", "\"oops\"",
                    "7;'bob;secret@example.com';oops;'4111 1111 1111 1111';1");
  EXPECT_EQ(single.Redact(quoted), RawEcho::kRewritten);
  EXPECT_EQ(quoted.raw, "7;" + Hmac("bob;secret@example.com") + ";oops;" + std::string(15, '*') +
                            "1111;" + Hmac("1"));
}

TEST(Redactor, CsvRowsThatDoNotSplitIntoTheirFieldsAreWithheld) {
  const auto transform = Protecting();
  const auto redactor = Csv(*transform);
  const std::string secret = "bob.secret@example.com";
  const InputError rows[] = {
      Row(InputErrc::kFieldCount, "", "expected 5 fields, found 4", "7," + secret + ",1.5,x"),
      Row(InputErrc::kStrayQuote, "amount", "\"1\"5,secret\"", "7," + secret + ",1\"5,x,1"),
      Row(InputErrc::kUnterminatedQuote, "id", "\"\\\"7," + secret + "\"", "\"7," + secret),
      Row(InputErrc::kRecordTooLarge, "", "longer than the 4096-byte block", "7," + secret + "..."),
      Row(InputErrc::kPoison, "", "killed", "7,\"" + secret + ",1.5,x,1"),  // quote not closed
  };
  for (InputError row : rows) {
    EXPECT_EQ(redactor.Redact(row), RawEcho::kWithheld) << Name(row.reason);
    EXPECT_EQ(row.raw, "");
    EXPECT_EQ(row.detail.find("secret"), std::string::npos) << row.detail;
  }
}

TEST(Redactor, CsvQuotingAndOtherEncodingsAndDroppedFields) {
  const auto transform = Chain({{"hash", "email"}, {"mask", "card"}});
  // A header with a sixth field that the schema drops (-1), and a ';' dialect.
  const Redactor redactor(transform.get(), kSchema, {true, ';', {0, 1, -1, 2, 3, 4}});
  auto row = Row(InputErrc::kInvalidUtf8, "card", "\"\xff\"",
                 "1;\"bob \"\"the\"\" secret;x\";\xfe;1.5;\"ca\"\"rd\";2");
  EXPECT_EQ(redactor.Redact(row), RawEcho::kRewritten);
  EXPECT_EQ(row.raw, "1;" + Hmac("bob \"the\" secret;x") + ";\xfe;1.5;*****;2");
  // A quoted empty value is an empty string, not null: it is hashed.
  auto empty = Row(InputErrc::kBadInt64, "id", "\"x\"", "x;\"\";a;1;;2");
  EXPECT_EQ(redactor.Redact(empty), RawEcho::kRewritten);
  EXPECT_EQ(empty.raw, "x;" + Hmac("") + ";a;1;;2");
}

TEST(Redactor, JsonLinesProtectedValuesAreRewrittenInPlace) {
  const auto transform = Protecting();
  const Redactor redactor(transform.get(), kSchema, {false, ',', {}});
  auto row = Row(InputErrc::kTypeMismatch, "amount", "expected float64",
                 R"( {"id":7, "email" : "bob.secret\u0040example.com", "amount":"oops", )"
                 R"("card":"4111111111111111", "salary":1000.50, "extra":{"a":[1,2]}, )"
                 R"("email":null, "card":[4111]} )");
  EXPECT_EQ(redactor.Redact(row), RawEcho::kRewritten);
  EXPECT_EQ(row.raw, R"( {"id":7, "email" : ")" + Hmac("bob.secret@example.com") +
                         R"(", "amount":"oops", "card":"************1111", "salary":")" +
                         Hmac("1000.5") + R"(", "extra":{"a":[1,2]}, "email":null, )" +
                         R"("card":"**111]"} )")
      << "a nested value is masked as its JSON text, as a string column holds it";
  EXPECT_EQ(row.detail, "expected float64");
}

TEST(Redactor, JsonLinesThatAreNotOneObjectAreWithheld) {
  const auto transform = Protecting();
  const Redactor redactor(transform.get(), kSchema, {false, ',', {}});
  const std::string secret = "bob.secret@example.com";
  const InputError rows[] = {
      Row(InputErrc::kInvalidJson, "", "unclosed object", R"({"email":")" + secret + "\""),
      Row(InputErrc::kInvalidJson, "", "bad token \"tru\"",
          R"({"email":")" + secret + R"(", "ok":tru})"),
      Row(InputErrc::kInvalidJson, "", "text after", R"({"id":1} {"email":")" + secret + "\"}"),
      Row(InputErrc::kInvalidUtf8, "", "not valid UTF-8", "{\"email\":\"" + secret + "\xff\"}"),
      Row(InputErrc::kInvalidJson, "", "not a JSON object", "[\"" + secret + "\"]"),
  };
  for (InputError row : rows) {
    EXPECT_EQ(redactor.Redact(row), RawEcho::kWithheld) << row.detail;
    EXPECT_EQ(row.raw, "");
    EXPECT_TRUE(row.detail.starts_with("(withheld")) << row.detail;
  }
}

TEST(Redactor, RowsWithoutProtectedValuesAndJobsWithoutProtectionAreEchoedAsRead) {
  const auto transform = Protecting();
  auto row = Row(InputErrc::kBadFloat64, "amount", "\"oops\"", "7,,oops,,");
  EXPECT_EQ(Csv(*transform).Redact(row), RawEcho::kAsRead);
  EXPECT_EQ(row.raw, "7,,oops,,");
  const auto harmless = Chain({{"rename", "email:contact"}, {"cast", "id:string"}});
  auto bad = Row(InputErrc::kFieldCount, "", "expected 5", "\"bob");
  EXPECT_FALSE(Csv(*harmless).protects());
  EXPECT_EQ(Csv(*harmless).Redact(bad), RawEcho::kAsRead);
  EXPECT_EQ(bad.raw, "\"bob");
  // Hashed only after a select dropped it: the name 'email' is then another column's.
  const auto dropped =
      Chain({{"select", "id,amount"}, {"rename", "amount:email"}, {"hash", "email"}});
  auto moved = Row(InputErrc::kBadInt64, "id", "\"x\"", "x,bob.secret@example.com,2.5,c,1");
  EXPECT_EQ(Csv(*dropped).Redact(moved), RawEcho::kRewritten);
  EXPECT_EQ(moved.raw, "x,bob.secret@example.com," + Hmac("2.5") + ",c,1");
}

// A transform that cannot be inspected may protect anything.
class Opaque final : public Transform {
 public:
  Schema OutputSchema(const Schema& input) const override { return input; }
  StageResult<TransformOutput> Apply(const BatchView&, std::span<std::byte>,
                                     InputErrors&) const override {
    return tl::unexpected(StageError{StageErrc::kInvalidArgument, "unused"});
  }
};

TEST(Redactor, ATransformThatCannotBeInspectedWithholdsEveryRowAndValue) {
  const Opaque opaque;
  std::vector<std::unique_ptr<Transform>> chain;
  chain.push_back(ParseTransform("hash", "email", Key()));
  chain.push_back(std::make_unique<Opaque>());
  const TransformChain mixed(std::move(chain));
  for (const Transform* transform :
       {static_cast<const Transform*>(&opaque), static_cast<const Transform*>(&mixed)}) {
    auto row = Row(InputErrc::kBadFloat64, "amount", "\"oops\"", "7,bob,oops,c,1");
    EXPECT_EQ(Csv(*transform).Redact(row), RawEcho::kWithheld);
    EXPECT_EQ(row.raw, "");
    EXPECT_EQ(row.detail.find("oops"), std::string::npos);
    auto count = Row(InputErrc::kFieldCount, "", "expected 5 fields, found 1", "bob");
    Csv(*transform).Redact(count);
    EXPECT_EQ(count.detail, "expected 5 fields, found 1");
  }
}

}  // namespace
}  // namespace zcpipe::stages
