// CsvDialect: how a CSV input is written (delimiter, quote, escape, header), given or sniffed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zcpipe/stages/parse.h"

namespace zcpipe::stages {

// Where a dialect setting came from.
enum class DialectSource : std::uint8_t {
  kGiven,    // the caller's (a flag)
  kSniffed,  // read from the data
  kDefault,  // neither: the data did not tell, so today's default (',' '"' header)
};
const char* Name(DialectSource source);  // "given", "sniffed", "default"

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';   // 0: no quoting
  char escape = '"';  // in a quoted field, escape then quote is a quote: only the quote doubled
                      // ("") is read, so escape == quote (0 without quoting)
  bool header = true;
  DialectSource delimiter_source = DialectSource::kDefault;
  DialectSource quote_source = DialectSource::kDefault;
  DialectSource header_source = DialectSource::kDefault;
};

// What the caller fixed; the rest is sniffed.
struct DialectHints {
  std::optional<char> delimiter = {};
  std::optional<char> quote = {};  // 0: no quoting
  std::optional<bool> header = {};
  bool decimal_comma = false;       // floats are written "2,5": ',' is no candidate delimiter
  std::string_view extension = {};  // the input's (".tsv"): breaks a tie, never overrides the data
};

// Sniffs the dialect of a CSV input from its first chunk, as DuckDB's CSV sniffer does:
//  - Delimiter and quote: each candidate (delimiter ',' tab ';' '|', quote '"' or '\'') splits
//    the first records (up to 1,000, in the first 256 KiB). A candidate is better when all
//    records have the same field count, then when more records share the most common count,
//    then with more columns, then with fewer malformed quoted fields, then when its quote quotes
//    some field; a tie goes to ',', then tab (first for a ".tsv" or ".tab" input), ';', '|', and
//    to '"' before '\''. A candidate must give more than one column, and '\'' must quote some
//    field: when none does, the delimiter is the first candidate, ',' (tab for ".tsv", tab
//    with decimal_comma), and kDefault. Sniffing never turns quoting off (a guess would be
//    unsafe: an unterminated quote is reported, not read as text); a quote of 0 is given only.
//    The quote is kSniffed when some field of the sample opens with it, else kDefault.
//  - Header: the first record is a header unless every column that holds a non-text type in
//    the other records (int64, float64, bool, timestamp: type_inference.h) holds a value of
//    that type (or nothing) in the first record too. With no such column (all text), or fewer
//    than two records, it stays a header (kDefault).
// Given settings are taken as they are and constrain the rest. Costs a few scans of at most
// 256 KiB, once per input. Thread-safe (a pure function).
[[nodiscard]] CsvDialect SniffCsvDialect(const Chunk& first_chunk, const DialectHints& hints);

// Whether `chunk` ends outside quotes when read with `delimiter` and `quote`: then it is whole
// records in that dialect too (a chunk cut with another dialect may not be).
[[nodiscard]] bool EndsOutsideQuotes(const Chunk& chunk, char delimiter, char quote);

// "','", "tab", "none" and the like: a dialect character as messages and reports name it.
[[nodiscard]] std::string DialectCharName(char c);

}  // namespace zcpipe::stages
