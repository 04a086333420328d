// Import's CSV dialect: sniffed from the first chunk, unless every setting was given.
#include <filesystem>

#include "import_impl.h"

namespace zcpipe::detail {

ImportStatus Import::SniffDialect(std::size_t room) {
  const char cut_delimiter = dialect_->delimiter, cut_quote = dialect_->quote;  // the chunker's
  dialect_ =
      stages::SniffCsvDialect(*first_chunk_, {.delimiter = config_.delimiter,
                                              .quote = config_.quote,
                                              .header = config_.header,
                                              .decimal_comma = config_.decimal_comma,
                                              .extension = config_.input.extension().native()});
  if (dialect_->delimiter == cut_delimiter && dialect_->quote == cut_quote) return {};
  // The chunker cut the first chunk where records end in its dialect; the next ones it cuts in
  // the sniffed one. A first chunk that is not whole records in the sniffed dialect (a quoted
  // newline near its end) is read again from the start, where the input can be.
  if (stages::EndsOutsideQuotes(*first_chunk_, dialect_->delimiter, dialect_->quote)) {
    chunker_->set_dialect(dialect_->delimiter, dialect_->quote);
    return {};
  }
  std::error_code error;
  if (config_.input == stages::kStandardInput ||
      !std::filesystem::is_regular_file(config_.input, error)) {
    return tl::unexpected(errors_.Make(
        ErrorKind::kInitialization, Stage::kRead, "bad dialect",
        errors_.input_name() + ": the sniffed dialect (delimiter " +
            stages::DialectCharName(dialect_->delimiter) + ", quote " +
            stages::DialectCharName(dialect_->quote) +
            ") cuts the first chunk elsewhere, and the input cannot be read again: give "
            "--delimiter and --quote"));
  }
  if (auto opened = OpenChunker({}); !opened) return opened;
  return ReadFirstChunk(room);
}

}  // namespace zcpipe::detail
