// SettingsDigest (settings_digest.h): each class encoded unambiguously (length-prefixed fields),
// then hashed with SHA-256 (OpenSSL EVP).
#include "settings_digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <typeinfo>

namespace zcpipe::detail {
namespace {

constexpr std::string_view kHashKeyIdLabel = "zcpipe/v1 hash key id";

std::string Hex(std::span<const unsigned char> bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) {
    std::array<char, 3> pair{};
    (void)std::snprintf(pair.data(), pair.size(), "%02x", byte);
    hex.append(pair.data(), 2);
  }
  return hex;
}

// Appends fields as "<length>:<bytes>", so that no two field lists encode alike.
class Fields {
 public:
  Fields& Add(std::string_view field) {
    text_ += std::to_string(field.size());
    text_ += ':';
    text_ += field;
    return *this;
  }
  // SHA-256 of the fields, in hex.
  [[nodiscard]] std::string Digest() const {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text_.data(), text_.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
      return "unavailable";  // differs from every digest: a resume is refused, never let through
    }
    return Hex(std::span(digest.data(), size));
  }

 private:
  std::string text_;
};

// Names a hashing key without revealing it: HMAC-SHA-256(key, label), as hex.
std::string KeyId(std::span<const std::byte> key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(kHashKeyIdLabel.data()), kHashKeyIdLabel.size(),
           mac.data(), &size) == nullptr) {
    return "unavailable";
  }
  return Hex(std::span(mac.data(), size));
}

struct Class {
  std::string SettingsDigest::*field;
  std::string_view key;     // in the journal line
  std::string_view people;  // in a refusal
};
constexpr std::array<Class, 4> kClasses{{
    {&SettingsDigest::format, "format",
     "input format options (--format, --delimiter, --quote, --header, --no-header, --strict, "
     "--decimal-comma, --encoding, or the dialect sniffed from the input)"},
    {&SettingsDigest::schema, "schema", "schema (--schema, or the one inferred from the input)"},
    {&SettingsDigest::transform, "transform",
     "transforms (--select, --rename, --cast, --filter, --hash, --mask, their order, or the "
     "hash key)"},
    {&SettingsDigest::on_error, "on-error", "error policy (--on-error)"},
}};

}  // namespace

SettingsDigest SettingsDigest::Of(const JobConfig& config, InputFormat format,
                                  const stages::Schema& schema,
                                  const std::optional<stages::CsvDialect>& dialect) {
  const bool csv = format == InputFormat::kCsv;
  Fields format_fields;
  format_fields.Add(csv ? "csv" : "jsonl");
  if (csv) {
    const stages::CsvDialect read_with =
        dialect ? *dialect
                : stages::CsvDialect{.delimiter = config.delimiter.value_or(','),
                                     .quote = config.quote.value_or('"'),
                                     .header = config.header.value_or(true)};
    format_fields.Add(std::string(1, read_with.delimiter))
        .Add(read_with.header ? "1" : "0")
        .Add(std::string(1, read_with.quote))
        .Add(config.strict ? "strict" : "lenient")
        .Add(config.decimal_comma ? "decimal-comma" : "decimal-point");
  }
  format_fields.Add(stages::Name(config.encoding));

  Fields transform;
  if (!config.transform) {
    transform.Add("none");
  } else if (config.transform->recipe().empty()) {
    transform.Add("object").Add(typeid(*config.transform).name());
  } else {
    for (const auto& step : config.transform->recipe()) {
      transform.Add(step.kind).Add(step.spec).Add(step.key ? KeyId(step.key_bytes()) : "");
    }
  }
  return {format_fields.Digest(), Fields().Add(schema.ToString()).Digest(), transform.Digest(),
          Fields().Add(std::to_string(static_cast<int>(config.on_error))).Digest()};
}

std::string SettingsDigest::ToLine() const {
  std::string line;
  for (const Class& c : kClasses) {
    if (!line.empty()) line += ' ';
    line.append(c.key).append("=").append(this->*c.field);
  }
  return line;
}

std::optional<SettingsDigest> SettingsDigest::FromLine(std::string_view line) {
  SettingsDigest digest;
  std::istringstream words{std::string(line)};
  for (const Class& c : kClasses) {
    std::string word;
    const std::string prefix = std::string(c.key) + "=";
    if (!(words >> word) || !word.starts_with(prefix)) return std::nullopt;
    digest.*c.field = word.substr(prefix.size());
  }
  return digest;
}

std::optional<std::string> SettingsDigest::FirstDifference(const SettingsDigest& recorded) const {
  for (const Class& c : kClasses) {
    if (this->*c.field != recorded.*c.field) return std::string(c.people);
  }
  return std::nullopt;
}

std::optional<std::string> ResumeRefusal(const SettingsDigest& now, std::string_view recorded) {
  const auto before = SettingsDigest::FromLine(recorded);
  const auto changed =
      before ? now.FirstDifference(*before) : std::optional<std::string>("settings");
  if (!changed) return std::nullopt;
  return "cannot resume: the " + *changed +
         " changed since the interrupted import; resuming would encrypt other data under the "
         "nonces it used. Restore them to resume, or drop --resume to start over";
}

}  // namespace zcpipe::detail
