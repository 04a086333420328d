// Redactor: a rejected row echoed without the plaintext of the columns its job protects.
//
// A job that hashes or masks columns (HashTransform, MaskTransform) writes only their hashed or
// masked values to its container, but a row it rejects is echoed: in its error event (stderr,
// listeners) and in the rejects file. The Redactor rewrites the row's InputError (raw and
// detail) before it is echoed, so that a protected value never shows in clear.
//
// Protected columns: the input columns (of the parsed schema) that a hash or mask step of the
// job's transform reaches, found by following its recipe (TransformStep kind and spec, in
// order) through renames and selects back to their input names. A transform whose recipe zcpipe
// cannot read (a user Transform, a kind registered with RegisterTransformKind) may protect any
// column: then every column is protected.
//
// The raw row: CSV is split into fields by the dialect (delimiter, quote, the parsed
// field-to-column map), JSON Lines by simdjson (top-level keys). Each protected field is
// replaced by its value run through that column's own steps: a cast from its text to its
// parsed type, then its casts, hashes and masks in order, with the job's hashing key. So a
// hashed field holds what the container holds for an equal value (it joins with it). A value
// that does not convert (often why the row was rejected) goes through the steps without the
// casts: it is still hashed / masked, but from its text. The other fields keep their bytes
// (CSV) or their JSON text (JSON Lines). A row that cannot be split into its fields reliably
// (a quoting error, a wrong field count, not one JSON object, a row cut short) while a column
// is protected is withheld: its raw text is emptied.
//
// The detail: kept when it cannot hold a protected value (it is about an unprotected column, or
// it is a field count or a size); otherwise replaced by a note that it was withheld. The column
// name is kept.
//
// Immutable after construction; Redact is const and safe to call from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/schema.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {

// How an input's raw rows split into fields.
struct RowFormat {
  bool csv = true;  // else JSON Lines: top-level keys name the columns
  char delimiter = ',';
  // CSV: per field of a record, the parsed schema's column it fills, or -1 when it is dropped
  // (CsvParser::field_to_column()).
  std::vector<int> field_to_column = {};
  char quote = '"';  // CSV: 0 for none
};

// What Redact did to a row's raw text.
enum class RawEcho : std::uint8_t {
  kAsRead,     // nothing protected in it: as read
  kRewritten,  // its protected fields replaced by their hashed / masked values
  kWithheld,   // emptied: it could not be split into its fields reliably
};

class Redactor {
 public:
  // Protects nothing: every row is echoed as read.
  Redactor();
  // For a job that runs `transform` (null: none) on rows of `parsed` read in `format`. Never
  // throws for a bad recipe (such a transform counts as unreadable: everything is protected).
  Redactor(const Transform* transform, const Schema& parsed, RowFormat format);
  Redactor(Redactor&&) noexcept;
  Redactor& operator=(Redactor&&) noexcept;
  ~Redactor();

  // Whether any column is protected (else Redact changes nothing).
  [[nodiscard]] bool protects() const;

  // Rewrites `row`'s raw text and detail so that no protected value shows in clear.
  RawEcho Redact(InputError& row) const;

 private:
  struct Column;  // a protected input column and the steps that make its value

  [[nodiscard]] const Column* Find(std::string_view input_name) const;
  [[nodiscard]] bool DetailMayShowProtected(const InputError& row) const;
  [[nodiscard]] std::optional<std::string> RewriteCsv(std::string_view raw) const;
  [[nodiscard]] std::optional<std::string> RewriteJson(std::string_view raw) const;

  bool everything_ = false;  // a step zcpipe cannot read: every column is protected
  RowFormat format_;
  Schema parsed_;
  std::vector<Column> columns_;
  // Every name a protected column bears along the transform (a transform's rejected row names
  // its column as it is called at that step).
  std::vector<std::string> protected_names_;
};

}  // namespace zcpipe::stages
