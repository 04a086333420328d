// JsonlParser: JSON Lines chunks (one JSON object per line) into record batches.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "zcpipe/stages/error.h"
#include "zcpipe/stages/parse.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe::stages {

struct JsonlOptions {
  Schema schema;  // the columns to fill, by key name (JSON Lines has no header; see InferSchema)
};

// Parses JSON Lines with simdjson's On-Demand API. Each line that is not blank (empty, or only
// JSON whitespace) is one row and must hold exactly one JSON object; LF or CRLF end a line, and
// a last line without one is a row too. Values go by key into the schema's columns; a missing
// key or a JSON null is null; keys not in the schema are ignored (but must be valid JSON); of
// duplicate keys the last wins. Accepted values, per column type:
//   int64      a JSON integer in int64 range (1.5 and 1.0 and 1e2 are not integers)
//   float64    a JSON number that a double holds as written (detail::ParseExactFloat64:
//              4196.10 is, 9007199254740993 and 0.10000000000000001 are not)
//   bool       true / false
//   string     a JSON string (unescaped; simdjson checks UTF-8); any other value as its JSON
//              text: a number's or a boolean's token, an array or object as it is in the
//              line (checked as JSON first). So a key inferred string for mixed kinds or
//              nested values takes every row.
//   timestamp  an ISO 8601 string with Z or an offset (detail::ParseTemporal: no digits finer
//              than microseconds), or an integer: microseconds since the Unix epoch; years
//              0000-9999
//   date       an ISO 8601 date string ("2024-03-01"); no number
//   datetime   an ISO 8601 date and time string without zone; no number
//
// Each bad row is rejected with an InputError (line, byte offset, reason, column when one is to
// blame, detail, the raw line) and the rest of the chunk is parsed:
//   kInvalidJson    not valid JSON, not an object, text after the object, or containers nested
//                   deeper than kMaxDepth (invalid JSON wins over the reasons below)
//   kInvalidUtf8    bytes that are not UTF-8, or an escaped lone surrogate ("\ud800")
//   kTypeMismatch   a value of the wrong JSON kind for its column (a string for int64, 1.5 for
//                   int64, an array in any column but a string one...)
//   kBadInt64       an integer outside int64 (for an int64 column)
//   kBadFloat64     a number a double would change (for a float64 column): beyond its range
//                   (1e400, 1e-400) or with more digits than it holds (9007199254740993)
//   kBadTimestamp   a string that is not ISO 8601 with a zone or is finer than microseconds,
//                   or an integer outside years 0000-9999
//   kBadDate, kBadDateTime  a string that is not an ISO 8601 date, or date and time without zone
//   kRecordTooLarge one row that does not fit even an empty batch in the block
// So rows_in = rows_out + rejected.size() for the lines consumed.
//
// Ownership: Parse reads the chunk in place and writes only into `block`; the output's batch
// is a suffix of `block`. simdjson may read SIMDJSON_PADDING bytes past a line: lines with that
// much of the chunk after them are parsed in place, the last few are copied into a reused
// buffer. A warmed-up parser does not allocate per row (only for rejected rows, and to grow
// its buffers to a longer line than before).
//
// Thread-compatible: one per thread (it keeps a simdjson parser and column buffers); movable,
// not copyable. Construct one per thread from the same options.
class JsonlParser {
 public:
  // Containers (objects, arrays) may nest this deep below a row's object.
  static constexpr std::size_t kMaxDepth = 128;
  // InferSchema keeps at most this many columns (the first keys seen); others are ignored.
  static constexpr std::size_t kMaxInferredColumns = 4096;

  explicit JsonlParser(JsonlOptions options);
  ~JsonlParser();
  JsonlParser(JsonlParser&&) noexcept;
  JsonlParser& operator=(JsonlParser&&) noexcept;
  JsonlParser(const JsonlParser&) = delete;
  JsonlParser& operator=(const JsonlParser&) = delete;

  [[nodiscard]] const Schema& schema() const;

  // Parses the rows of `chunk` (whole lines) into a RecordBatch written into `block`. When the
  // batch would not fit, parses a prefix: bytes_consumed / lines_consumed say how much (at least
  // one line of a non-empty chunk); parse the rest, as a Chunk with the same index, into another
  // block. REQUIRES: `block` 8-byte aligned at its end (see WriteBatch).
  // Errors: kBatchTooLarge when the block cannot hold even an empty batch.
  [[nodiscard]] StageResult<ParseOutput> Parse(const Chunk& chunk, std::span<std::byte> block);

  // A schema from the first `max_rows` non-blank lines of `chunk`: the top-level keys in order
  // of first appearance, each typed by all its non-null values, with a type that keeps every
  // one (docs/types.md): int64 if all are integers in int64 range, float64 if all are numbers
  // a double holds as written, bool if all are booleans, timestamp if all are strings that
  // parse as ISO 8601 to the microsecond, else (strings, mixed kinds, an integer beyond int64,
  // a number a double would round, arrays, objects, only nulls) string, which keeps the text. Lines
  // that are not valid JSON objects and the empty key "" are skipped. Empty when there is nothing
  // to infer from.
  [[nodiscard]] static Schema InferSchema(const Chunk& chunk, std::size_t max_rows = 1000);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zcpipe::stages
