#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "csv/csv_inference.h"
#include "csv/csv_scan.h"
#include "csv/record_splitter.h"
#include "values/type_inference.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/csv_dialect.h"

namespace zcpipe::stages {
namespace {

constexpr std::size_t kSampleBytes = std::size_t{256} << 10;
constexpr std::size_t kSampleRecords = 1000;

// How well a candidate splits the sample; a greater Score is better (see SniffCsvDialect).
struct Score {
  bool consistent = false;    // every record has the same field count
  std::size_t agreeing = 0;   // records with the most common field count
  std::size_t columns = 0;    // that count
  std::size_t malformed = 0;  // quoted fields that do not close properly
  bool quotes_used = false;   // some field opens with the quote
  [[nodiscard]] auto Key() const {
    return std::make_tuple(consistent, agreeing, columns, ~malformed, quotes_used);
  }
};

// The sample: the text up to its last record end within the first kSampleBytes.
std::string_view Sample(std::string_view text, char delimiter, char quote) {
  if (text.size() <= kSampleBytes) return text;
  const auto boundary = detail::FindBoundary(text.data(), kSampleBytes, delimiter, quote);
  return text.substr(0, boundary.end == 0 ? kSampleBytes : boundary.end);
}

Score Rate(std::string_view all, char delimiter, char quote) {
  const std::string_view text = Sample(all, delimiter, quote);
  std::vector<std::uint32_t> separators;
  const auto summary =
      detail::FindSeparators(text.data(), text.size(), delimiter, quote, separators);
  std::vector<detail::Field> fields;
  std::map<std::size_t, std::size_t> records_by_count;
  std::size_t records = 0;
  Score score;
  score.malformed = summary.ends_in_quote ? 1 : 0;
  std::string scratch;
  detail::ForEachRecord(
      text.data(), static_cast<std::uint32_t>(text.size()), separators, summary.any_quote, fields,
      [&](const detail::Record& record) {
        ++records;
        ++records_by_count[record.fields.size()];
        for (const detail::Field& field :
             summary.any_quote ? record.fields : std::span<const detail::Field>{}) {
          const std::string_view raw = text.substr(field.begin, field.end - field.begin);
          std::string_view value;
          bool quoted = false;
          if (detail::DecodeField(raw, quote, false, scratch, value, quoted)) ++score.malformed;
          score.quotes_used |= quoted;
        }
        return records < kSampleRecords;
      });
  for (const auto& [count, with] : records_by_count) {
    if (with >= score.agreeing) score = {false, with, count, score.malformed, score.quotes_used};
  }
  score.consistent = records_by_count.size() == 1;
  return score;
}

// Whether the first of `records` names the columns (see SniffCsvDialect); nullopt: cannot tell.
std::optional<bool> IsHeader(const std::vector<std::vector<std::string>>& records,
                             bool decimal_comma) {
  if (records.size() < 2) return std::nullopt;
  const auto& first = records.front();
  bool typed = false, fits = true;
  std::string scratch;
  for (std::size_t f = 0; f < first.size(); ++f) {
    std::uint8_t types = detail::kAnyType;
    bool any = false;
    for (std::size_t r = 1; r < records.size(); ++r) {
      if (records[r].size() != first.size() || records[r][f].empty()) continue;
      any = true;
      types &= detail::TypesKeeping(records[r][f], decimal_comma, scratch);
    }
    if (!any || detail::MostSpecific(types) == ColumnType::kString) continue;
    typed = true;
    if (!first[f].empty() && (detail::TypesKeeping(first[f], decimal_comma, scratch) & types) == 0)
      fits = false;
  }
  if (!typed) return std::nullopt;
  return !fits;
}

}  // namespace

const char* Name(DialectSource source) {
  switch (source) {
    case DialectSource::kGiven:
      return "given";
    case DialectSource::kSniffed:
      return "sniffed";
    case DialectSource::kDefault:
      return "default";
  }
  return "?";
}

std::string DialectCharName(char c) {
  switch (c) {
    case '\0':
      return "none";
    case '\t':
      return "tab";
    default:
      return std::string("'") + c + "'";
  }
}

bool EndsOutsideQuotes(const Chunk& chunk, char delimiter, char quote) {
  const std::string_view text = detail::CsvText(chunk);
  return !detail::FindBoundary(text.data(), text.size(), delimiter, quote).ends_in_quote;
}

CsvDialect SniffCsvDialect(const Chunk& first_chunk, const DialectHints& hints) {
  const std::string_view text = detail::CsvText(first_chunk);
  const bool tsv = hints.extension == ".tsv" || hints.extension == ".tab";
  std::vector<char> delimiters;
  if (hints.delimiter) {
    delimiters = {*hints.delimiter};
  } else {
    delimiters =
        tsv ? std::vector<char>{'\t', ',', ';', '|'} : std::vector<char>{',', '\t', ';', '|'};
    if (hints.decimal_comma) std::erase(delimiters, ',');
  }
  const std::vector<char> quotes =
      hints.quote ? std::vector<char>{*hints.quote} : std::vector<char>{'"', '\''};

  CsvDialect dialect;
  dialect.delimiter = delimiters.front();
  dialect.quote = quotes.front();
  std::optional<Score> best;
  for (const char delimiter : delimiters) {
    for (const char quote : quotes) {
      if (!IsCsvDelimiter(delimiter, quote)) continue;
      const Score score = Rate(text, delimiter, quote);
      if (score.columns < 2 && !hints.delimiter) continue;  // no split: no evidence
      // '\'' must quote some field: else it only hides what '"' finds malformed.
      if (quote == '\'' && !hints.quote && !score.quotes_used) continue;
      if (!best || score.Key() > best->Key()) {
        best = score;
        dialect.delimiter = delimiter;
        dialect.quote = quote;
      }
    }
  }
  const auto source = [&](bool given, bool found) {
    return given   ? DialectSource::kGiven
           : found ? DialectSource::kSniffed
                   : DialectSource::kDefault;
  };
  dialect.delimiter_source = source(hints.delimiter.has_value(), best.has_value());
  dialect.quote_source = source(hints.quote.has_value(), best && best->quotes_used);
  dialect.escape = dialect.quote;

  if (hints.header) {
    dialect.header = *hints.header;
    dialect.header_source = DialectSource::kGiven;
  } else if (const auto header =
                 IsHeader(detail::FirstRecords(Sample(text, dialect.delimiter, dialect.quote),
                                               dialect.delimiter, dialect.quote, kSampleRecords),
                          hints.decimal_comma)) {
    dialect.header = *header;
    dialect.header_source = DialectSource::kSniffed;
  }
  return dialect;
}

}  // namespace zcpipe::stages
