#include "csv/record_splitter.h"

#include "csv/csv_scan.h"
#include "zcpipe/stages/chunker.h"

namespace zcpipe::stages {

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
