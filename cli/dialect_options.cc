#include "dialect_options.h"

#include "zcpipe/stages/csv.h"

namespace zcpipe::cli {
namespace {

// A dialect character as written on the command line: itself, "tab" or "\t", or (`none`
// allowed) "none" or "" for none.
char DialectChar(const std::string& text, const std::string& option, bool none) {
  if (text == "tab" || text == "\\t") return '\t';
  if (none && (text == "none" || text.empty())) return '\0';
  if (text.size() != 1) {
    throw CLI::ValidationError(
        option, (none ? "one character, tab or none: " : "one character or tab: ") + text);
  }
  return text.front();
}

}  // namespace

void AddDialectOptions(CLI::App& command, JobConfig& job, const std::string& group) {
  command
      .add_option_function<std::string>(
          "--delimiter",
          [&job](const std::string& text) {
            const char c = DialectChar(text, "--delimiter", false);
            if (!stages::IsCsvDelimiter(c)) {  // the job checks it against the quote
              throw CLI::ValidationError("--delimiter", "cannot be a quote, CR, LF or NUL");
            }
            job.delimiter = c;
          },
          "CSV field delimiter (a character, or tab; default: sniffed among , tab ; |)")
      ->group(group);
  command
      .add_option_function<std::string>(
          "--quote",
          [&job](const std::string& text) {
            const char c = DialectChar(text, "--quote", true);
            if (!stages::IsCsvQuote(c)) throw CLI::ValidationError("--quote", "\", ' or none");
            job.quote = c;
          },
          "CSV quote: \", ' or none (default: sniffed between \" and ')")
      ->group(group);
  auto* header = command
                     .add_flag_callback(
                         "--header", [&job] { job.header = true; },
                         "CSV: the first line names the columns (default: sniffed)")
                     ->group(group);
  command
      .add_flag_callback(
          "--no-header", [&job] { job.header = false; }, "CSV: the first line is data")
      ->excludes(header)
      ->group(group);
  command
      .add_flag("--strict", job.strict,
                "CSV: RFC 4180, a quote inside an unquoted field (5'11\") is an error")
      ->group(group);
  command
      .add_flag("--decimal-comma", job.decimal_comma,
                "CSV: floats are written 2,5 (needs a delimiter other than ,); never guessed")
      ->group(group);
}

std::string DescribeDialect(const stages::CsvDialect& dialect) {
  const auto from = [](stages::DialectSource source) {
    return std::string(" (") + stages::Name(source) + ")";
  };
  return "delimiter " + stages::DialectCharName(dialect.delimiter) +
         from(dialect.delimiter_source) + ", quote " + stages::DialectCharName(dialect.quote) +
         from(dialect.quote_source) + ", escape " + stages::DialectCharName(dialect.escape) +
         ", header " + (dialect.header ? "yes" : "no") + from(dialect.header_source);
}

}  // namespace zcpipe::cli
