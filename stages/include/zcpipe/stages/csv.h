// CsvParser: RFC 4180 CSV chunks into record batches.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/error.h"
#include "zcpipe/stages/parse.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages {

// Whether `c` can separate CSV fields: not a quote ('"', or `quote`), CR, LF or NUL (a file
// written or read with one of those would not mean what it says). The import and the export
// refuse others.
[[nodiscard]] constexpr bool IsCsvDelimiter(char c, char quote = '"') {
  return c != quote && c != '"' && c != '\r' && c != '\n' && c != '\0';
}
// Whether `c` can quote CSV fields: '"', '\'' or 0 (no quoting).
[[nodiscard]] constexpr bool IsCsvQuote(char c) { return c == '"' || c == '\'' || c == '\0'; }

struct CsvOptions {
  char delimiter = ',';               // REQUIRES: IsCsvDelimiter(delimiter, quote)
  bool header = true;                 // the first record names the columns
  std::optional<Schema> schema = {};  // types (and, with a header, the columns to keep, by name);
                                      // inferred from the first chunk when absent
  char quote = '"';                   // REQUIRES: IsCsvQuote; 0: no quoting. In a quoted field the
                                      // quote doubled is one quote (the only escape)
  bool strict = false;                // RFC 4180: reject a quote inside an unquoted field
  bool decimal_comma = false;         // a float's decimal separator is ',' ("2,5"); a value with a
                                      // '.' is then no float. REQUIRES: delimiter != ','
};

// Parses CSV as RFC 4180 has it: fields separated by `delimiter`, records by LF or CRLF;
// a field in quotes (`quote`, '"' by default) may hold delimiters, newlines and doubled quotes
// (""); an optional UTF-8 byte-order mark at the start of the input is skipped. An empty
// unquoted field is null; a quoted empty field ("") is an empty string. A quote opens a quoted
// field only at the start of a field: one inside an unquoted field (5'11", 37°36'37.8"N) is
// text, as Python's csv module and DuckDB read it, unless `strict` (then the row is rejected).
//
// Each bad row (wrong field count, a stray quote under `strict`, an unterminated quote (the
// detail names the quote and the line it opened on), text after a closing quote, a value that
// does not fit its column or that its type would change, invalid UTF-8 in a string) is
// rejected with an InputError naming its line, byte offset and reason; the other rows of the
// chunk are parsed. Scanning is vectorized (csv_scan.h); numbers go through std::from_chars; a
// warmed-up parser does not allocate per field or per row.
//
// Create one per input from its first chunk, then copy it so that each thread has its own
// (Parse keeps reusable scratch buffers: thread-compatible, not thread-safe).
class CsvParser {
 public:
  // Reads the header (if any) from `first_chunk` and resolves the schema: the given one, with
  // each column found by name in the header, or one inferred from up to 10,000 rows: the most
  // specific type that keeps every value (type_inference.h; leading zeros stay text).
  // Throws std::invalid_argument (configuration): a schema column missing from the header,
  // an empty input with neither header nor schema, duplicate header names.
  static CsvParser Create(const CsvOptions& options, const Chunk& first_chunk);

  [[nodiscard]] const Schema& schema() const { return schema_; }
  // Per field of a record: the schema column it fills, or -1 when it is dropped.
  [[nodiscard]] const std::vector<int>& field_to_column() const { return field_to_column_; }

  // Parses `chunk` (whole records, as cut by a Chunker) into a RecordBatch in `block`. When
  // the batch would not fit, parses a prefix and says how much in bytes_consumed.
  // Errors: kBatchTooLarge only if not even one row fits an empty block.
  [[nodiscard]] StageResult<ParseOutput> Parse(const Chunk& chunk, std::span<std::byte> block);

 private:
  CsvParser(CsvOptions options, Schema schema, std::vector<int> field_to_column,
            std::size_t field_count);

  CsvOptions options_;
  Schema schema_;
  std::vector<int> field_to_column_;  // per input field: schema column, or -1 to drop it
  std::size_t field_count_;           // fields per record in the input

  // Scratch, reused across chunks.
  std::vector<ColumnBuffer> columns_;
  std::vector<std::uint32_t> separators_;
  std::vector<std::uint32_t> row_lines_;
  std::string unescaped_;
  std::string decimal_;  // a decimal-comma float's text with a decimal point
};

}  // namespace zcpipe::stages
