#include "csv/record_splitter.h"

#include "csv/csv_scan.h"
#include "zcpipe/stages/chunker.h"

namespace zcpipe::stages {

namespace detail {

std::optional<InputErrc> DecodeField(std::string_view raw, char quote_char, bool strict,
                                     std::string& scratch, std::string_view& value, bool& quoted) {
  quoted = quote_char != 0 && !raw.empty() && raw.front() == quote_char;
  if (!quoted) {
    value = raw;
    if (strict && quote_char != 0 && raw.find(quote_char) != std::string_view::npos)
      return InputErrc::kStrayQuote;
    return std::nullopt;
  }
  if (raw.size() < 2 || raw.back() != quote_char) return InputErrc::kStrayQuote;
  const std::string_view inner = raw.substr(1, raw.size() - 2);
  std::size_t quote = inner.find(quote_char);
  if (quote == std::string_view::npos) {
    value = inner;
    return std::nullopt;
  }
  scratch.clear();
  std::size_t from = 0;
  for (; quote != std::string_view::npos; quote = inner.find(quote_char, from)) {
    if (quote + 1 >= inner.size() || inner[quote + 1] != quote_char) return InputErrc::kStrayQuote;
    scratch.append(inner.substr(from, quote + 1 - from));
    from = quote + 2;
  }
  scratch.append(inner.substr(from));
  value = scratch;
  return std::nullopt;
}

}  // namespace detail

std::vector<RecordSpan> SplitRecords(const Chunk& chunk, char delimiter, char quote,
                                     std::size_t limit) {
  std::vector<RecordSpan> records;
  if (limit == 0) return records;
  const std::string_view text =
      quote == 0
          ? std::string_view(reinterpret_cast<const char*>(chunk.bytes.data()), chunk.bytes.size())
          : detail::CsvText(chunk);
  const std::size_t skipped = chunk.bytes.size() - text.size();
  std::vector<std::uint32_t> separators;
  const auto summary =
      detail::FindSeparators(text.data(), text.size(), delimiter, quote, separators);
  std::vector<detail::Field> fields;
  detail::ForEachRecord(text.data(), static_cast<std::uint32_t>(text.size()), separators,
                        summary.any_quote, fields, [&](const detail::Record& record) {
                          records.push_back({skipped + record.begin, skipped + record.end,
                                             chunk.first_line + record.line});
                          return records.size() < limit;
                        });
  return records;
}

}  // namespace zcpipe::stages
