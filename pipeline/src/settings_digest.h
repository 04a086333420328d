// SettingsDigest: what decides the plaintext of an import's frames, recorded in its journal so
// that a resume with other settings is refused. Private to zcpipe::pipeline.
//
// A resumed import continues the interrupted run's container: the same payload key, and frame
// indices (the AES-GCM nonces) from the journal point on. Frames past that point may already
// have been sealed (and written) by the interrupted run; sealed again from a different plaintext
// under the same index, GCM's keystream and authentication key would leak. So a resume must
// produce, index for index, the plaintext the interrupted run did: same input (the journal's
// header), same chunk size, and the same settings, which this digest pins, one class at a time
// so that a refusal can say which one changed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::detail {

// One SHA-256 (hex) per class of settings. Holds no secret: the hashing key enters as a key id
// (HMAC-SHA-256 of a fixed label under the key), never as itself.
// Thread-safety: a value; const use from any thread.
struct SettingsDigest {
  std::string format;     // input format (resolved), CSV dialect, strictness, decimal comma, encoding
  std::string schema;     // the schema the parser reads (given or inferred)
  std::string transform;  // the transform's recipe, with the hashing key's id; see Of
  std::string on_error;   // the error policy

  // The digest of `config`'s settings, its format resolved to `format` (kCsv or kJsonl), its
  // input schema `schema` and, for CSV, the dialect read with `dialect` (given or sniffed; none:
  // `config`'s, with the defaults for what it leaves out). A transform with a recipe is digested by
  // its steps (kind, spec, key id); one without (a Transform object of the caller's) by its type
  // only: the caller answers for resuming it with the same parameters.
  [[nodiscard]] static SettingsDigest Of(const JobConfig& config, InputFormat format,
                                         const stages::Schema& schema,
                                         const std::optional<stages::CsvDialect>& dialect = {});

  // One line, no newline: "format=HEX schema=HEX transform=HEX on-error=HEX".
  [[nodiscard]] std::string ToLine() const;
  // Parses ToLine's form; nullopt when it is not that.
  [[nodiscard]] static std::optional<SettingsDigest> FromLine(std::string_view line);

  // The first class in which `recorded` differs from this, named for people (e.g. "transforms
  // (--select, --mask, --hash..., or the hash key)"); nullopt when none does.
  [[nodiscard]] std::optional<std::string> FirstDifference(const SettingsDigest& recorded) const;

  bool operator==(const SettingsDigest&) const = default;
};

// Why a resume must be refused: nullopt when `recorded` (the journal's settings line) is
// `now`'s; else a message for people naming the class that changed and what to do.
[[nodiscard]] std::optional<std::string> ResumeRefusal(const SettingsDigest& now,
                                                       std::string_view recorded);

}  // namespace zcpipe::detail
