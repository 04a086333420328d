#include "zcpipe/pipeline/input_info.h"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/jsonl.h"

namespace zcpipe {
namespace {

// The first chunk of config.input, cut in `dialect` (CSV) into `buffer`.
tl::expected<stages::Chunk, std::string> FirstChunk(const JobConfig& config, bool csv,
                                                    const stages::CsvDialect& dialect,
                                                    std::vector<std::byte>& buffer) {
  auto chunker = stages::Chunker::Open(config.input, {.chunk_size = config.chunk_size,
                                                      .quote = csv ? dialect.quote : '\0',
                                                      .delimiter = dialect.delimiter});
  if (!chunker) return tl::unexpected(chunker.error().message);
  buffer.resize(config.chunk_size * 2);
  auto first = chunker->Next(buffer);
  if (!first) return tl::unexpected(first.error().message);
  return *first ? **first : stages::Chunk{{}, 0, 1, 0};
}

}  // namespace

InputFormat ResolvedFormat(const JobConfig& config) {
  if (config.format != InputFormat::kAuto) return config.format;
  const auto ext = config.input.extension().string();
  return ext == ".jsonl" || ext == ".ndjson" || ext == ".json" ? InputFormat::kJsonl
                                                               : InputFormat::kCsv;
}

tl::expected<InputInfo, std::string> InspectInput(const JobConfig& config) {
  InputInfo info{.format = ResolvedFormat(config)};
  const bool csv = info.format == InputFormat::kCsv;
  const std::string name = stages::InputName(config.input.string());
  stages::CsvDialect dialect{.delimiter = config.delimiter.value_or(','),
                             .quote = config.quote.value_or('"')};
  std::vector<std::byte> buffer;
  auto chunk = FirstChunk(config, csv, dialect, buffer);
  if (!chunk) return tl::unexpected(chunk.error());
  try {
    if (!csv) {
      info.schema = config.schema ? *config.schema : stages::JsonlParser::InferSchema(*chunk);
      return info;
    }
    dialect = stages::SniffCsvDialect(*chunk, {.delimiter = config.delimiter,
                                               .quote = config.quote,
                                               .header = config.header,
                                               .decimal_comma = config.decimal_comma,
                                               .extension = config.input.extension().native()});
    // As the job does: a first chunk that is not whole records in the sniffed dialect is read
    // again in it (only a regular file can be).
    if (!stages::EndsOutsideQuotes(*chunk, dialect.delimiter, dialect.quote) &&
        config.input != stages::kStandardInput && std::filesystem::is_regular_file(config.input)) {
      chunk = FirstChunk(config, csv, dialect, buffer);
      if (!chunk) return tl::unexpected(chunk.error());
    }
    info.dialect = dialect;
    info.schema = stages::CsvParser::Create({.delimiter = dialect.delimiter,
                                             .header = dialect.header,
                                             .schema = config.schema,
                                             .quote = dialect.quote,
                                             .strict = config.strict,
                                             .decimal_comma = config.decimal_comma},
                                            *chunk)
                      .schema();
  } catch (const std::invalid_argument& e) {
    return tl::unexpected(name + ": " + e.what());
  }
  return info;
}

}  // namespace zcpipe
