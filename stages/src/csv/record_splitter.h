// Records and fields from the separators FindSeparators found (csv_scan.h): the one walk the
// CSV parser reads rows with and SplitRecords (chunker.h) cuts a chunk into records with.
//
// A record ends at a newline outside quotes, or at the end of the text; a CR before that
// newline is no part of it; an empty line is no record. Lines are counted from the text's
// start (a record with a quoted newline spans several).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "csv/csv_scan.h"
#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/parse.h"

namespace zcpipe::stages::detail {

inline constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// The text of a CSV chunk: its bytes without a UTF-8 byte-order mark at the input's start.
inline std::string_view CsvText(const Chunk& chunk) {
  std::string_view text(reinterpret_cast<const char*>(chunk.bytes.data()), chunk.bytes.size());
  if (chunk.first_byte == 0 && text.starts_with(kByteOrderMark)) {
    text.remove_prefix(kByteOrderMark.size());
  }
  return text;
}

// A field's value as the CSV parser reads it: unquoted as is, quoted without its quotes and
// with a doubled quote turned into one (`scratch` holds it then). A quote opens a quoted field
// only at the field's start: elsewhere in an unquoted field it is text, or with `strict` a stray
// quote. `quote` 0: no quoting. Returns the reason when the field's quoting is malformed.
std::optional<InputErrc> DecodeField(std::string_view raw, char quote, bool strict,
                                     std::string& scratch, std::string_view& value, bool& quoted);

struct Field {
  std::uint32_t begin;
  std::uint32_t end;
};

// One record of the text: [begin, end) without its line ending, its fields, `next`, where the
// record after it starts, and the lines before `begin` and before `next`.
struct Record {
  std::uint32_t begin;
  std::uint32_t end;
  std::uint32_t next;
  std::uint64_t line;
  std::uint64_t next_line;
  std::span<const Field> fields;
};

// Walks the records of text[0, n) given its separators (FindSeparators over the same text,
// with `any_quote` from its summary), calling on_record(const Record&) until it returns false.
// `fields` is scratch (the records' fields point into it). REQUIRES: n < 2^32.
template <class OnRecord>
void ForEachRecord(const char* text, std::uint32_t n, std::span<const std::uint32_t> separators,
                   bool any_quote, std::vector<Field>& fields, OnRecord&& on_record) {
  std::uint64_t line = 0;     // newlines in text[0, counted)
  std::uint32_t counted = 0;  // where the last record visited ends
  auto emit = [&](std::uint32_t begin, std::uint32_t end, std::uint32_t next) {
    if (end > begin && text[end - 1] == '\r') {
      --end;
      fields.back().end = std::max(fields.back().begin, fields.back().end - 1);
    }
    if (end == begin) {  // blank: its newline counts with the next record's
      fields.clear();
      return true;
    }
    // The blank lines before the record, then its own lines (several if a quoted field has some).
    const std::uint64_t record_line = line + CountNewlines(text + counted, begin - counted);
    line = record_line + (any_quote ? CountNewlines(text + begin, next - begin)
                                    : (next > end && text[next - 1] == '\n'));
    counted = next;
    const bool go_on = on_record(Record{begin, end, next, record_line, line, fields});
    fields.clear();
    return go_on;
  };
  fields.clear();
  std::uint32_t field_begin = 0, record_begin = 0;
  for (const std::uint32_t s : separators) {
    fields.push_back({field_begin, s});
    field_begin = s + 1;
    if (text[s] == '\n') {
      if (!emit(record_begin, s, s + 1)) return;
      record_begin = s + 1;
    }
  }
  if (record_begin < n) {
    fields.push_back({field_begin, n});
    emit(record_begin, n, n);
  }
}

}  // namespace zcpipe::stages::detail
