// Export: record batches back to CSV or JSON Lines; a whole .zcp container to a text file.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/container_error.h"
#include "zcpipe/stages/key.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages {

enum class ExportFormat : std::uint8_t { kCsv, kJsonl };

struct ExportOptions {
  ExportFormat format = ExportFormat::kCsv;
  char delimiter = ',';           // CSV: one IsCsvDelimiter accepts, else kInvalidArgument
  bool header = true;             // CSV: a first line of column names
  bool replace_existing = false;  // ExportFile: may replace an existing output file
  // ExportFile: when this turns true (from any thread), the export stops before its next chunk
  // with kCancelled. REQUIRES: outlives the call.
  const std::atomic<bool>* cancel = nullptr;
};

// Renders batches as text that zcpipe's parsers read back to the same values:
// - CSV (RFC 4180): a null is an empty field, an empty string is "", a field holding the
//   delimiter, a quote, CR or LF is quoted with quotes doubled (and so is one starting or ending
//   with a space, which some readers trim); numbers in shortest round-trip form; bools true/false;
//   timestamps ISO 8601 in UTC.
// - JSON Lines: one object per row, keys in column order, null for nulls, timestamps as ISO
//   strings; a non-finite float (which JSON cannot hold) becomes null.
// Thread-compatible; appends to the caller's string (reuse it to avoid allocations).
class BatchFormatter {
 public:
  explicit BatchFormatter(const ExportOptions& options) : options_(options) {}
  // The CSV header line for `schema`; nothing for JSON Lines.
  void AppendHeader(const Schema& schema, std::string& out) const;
  void Append(const BatchView& batch, std::string& out) const;

 private:
  ExportOptions options_;
};

// Appends `value` to `out` as a JSON string literal (quotes, escapes); for JSON written by hand.
// Every control character (U+0000 to U+001F) is escaped, and so are U+2028 and U+2029 (which
// JavaScript does not take raw). REQUIRES: `value` is UTF-8 (else the result is not JSON).
void AppendJsonString(std::string_view value, std::string& out);
// Appends `value` to `out` as one CSV field, quoted (quotes doubled) as the exporter writes it:
// when it is empty, holds `delimiter`, a quote, CR or LF, or starts or ends with a space.
void AppendCsvString(std::string_view value, char delimiter, std::string& out);

struct ExportReport {
  std::uint64_t rows = 0;
  std::uint64_t chunks = 0;
  std::string schema;  // the container header's schema string
};

// Decrypts the container at `in` (a file of record batches, as zcpipe writes) and writes its
// rows to `out` in `options.format`. The output is written to a temporary file next to `out`
// and renamed into place only after every chunk verified; on any error nothing is left under
// `out`. `out` == "-" streams to standard output instead (rows already written stay written:
// check the result). Errors: those of ContainerReader, kAlreadyExists, kIo, kCancelled,
// kInvalidArgument (`out` is `in`: SameFile), and kNotRecordBatches for an authentic chunk that
// is not a valid record batch.
[[nodiscard]] ContainerResult<ExportReport> ExportFile(const std::filesystem::path& in,
                                                       const std::filesystem::path& out,
                                                       const Credential& credential,
                                                       const ExportOptions& options);

}  // namespace zcpipe::stages
