// Structural scan of CSV text: finds quotes, delimiters and newlines 64 bytes at a time and
// works out which are inside quoted fields with a prefix-XOR of the quote bits (the technique
// of simdjson / simdcsv), so well-formed text is never looked at byte by byte.
//
// Quote parity equals RFC 4180 quoting only while quotes are well placed: opening at a field
// start (or right after a closing quote, the "" escape) and closing before a delimiter, CR,
// LF, quote or the end. The scan checks that as it goes; text with a misplaced quote is
// rescanned by a scalar state machine that follows RFC 4180 exactly, so one stray quote costs
// one rejected row, not every row up to the next quote.
//
// This file holds the one rule for where records and fields end: a quote opens a quoted field
// only at the start of a field, and any other quote is text as far as splitting goes (whether
// such a field is then rejected is the parser's call, csv_parser.cc). The chunker, the CSV
// parser and SplitRecords (record_splitter.h) all split through it.
//
// `quote` == 0 means no quoting (JSON Lines: a string never holds a raw newline).
// `delimiter` == 0 means the delimiter is not known: no byte is one, and as any byte may then
// end a field, every quote opens or closes a quoted field (plain quote parity).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zcpipe::stages::detail {

// What FindSeparators learned about the text besides the separators.
struct ScanSummary {
  bool non_ascii = false;      // some byte >= 0x80: strings need UTF-8 validation
  bool any_quote = false;      // no quote at all: no field needs unescaping or quote checks
  bool ends_in_quote = false;  // the text ends inside a quoted field
};

// Appends to `separators` the offsets of every delimiter and newline outside quotes in
// data[0, n), in order. REQUIRES: n < 2^32; the text starts outside quotes.
ScanSummary FindSeparators(const char* data, std::size_t n, char delimiter, char quote,
                           std::vector<std::uint32_t>& separators);

// Where a chunk may end: just past the last newline outside quotes in data[0, n).
struct Boundary {
  std::size_t end = 0;         // 0 when there is none
  bool ends_in_quote = false;  // the text ends inside a quoted field
};
Boundary FindBoundary(const char* data, std::size_t n, char delimiter, char quote);

// Newlines in data[0, n), quoted or not: the physical line count.
std::uint64_t CountNewlines(const char* data, std::size_t n);

}  // namespace zcpipe::stages::detail
