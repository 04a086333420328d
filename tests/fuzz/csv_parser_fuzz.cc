// libFuzzer target: any bytes as CSV. The first byte picks the options: given, or sniffed
// from the bytes (SniffCsvDialect), as the import does. Never crashes, the sniffed dialect is
// one the parser takes, and whatever comes out is a valid batch whose rows plus rejections are
// all accounted for.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "read_all.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/csv_dialect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zcpipe::stages;
  if (size == 0) return 0;
  CsvOptions options;
  options.delimiter = (data[0] & 1) != 0 ? ';' : ',';
  options.header = (data[0] & 2) != 0;
  if ((data[0] & 4) != 0) options.schema = Schema::Parse("a:int64,b:float64,c,d:bool,e:timestamp");
  if ((data[0] & 64) != 0) options.schema = Schema::Parse("a:date,b:datetime,c:timestamp");
  options.strict = (data[0] & 8) != 0;
  options.decimal_comma = (data[0] & 16) != 0 && options.delimiter != ',';
  const Chunk chunk{std::as_bytes(std::span(data + 1, size - 1)), 0, 1, 0};
  if ((data[0] & 32) != 0) {  // sniffed, as a job without dialect flags
    const CsvDialect dialect = SniffCsvDialect(chunk, {.decimal_comma = options.decimal_comma});
    if (!IsCsvDelimiter(dialect.delimiter, dialect.quote) || !IsCsvQuote(dialect.quote) ||
        dialect.escape != dialect.quote || (options.decimal_comma && dialect.delimiter == ',')) {
      std::abort();
    }
    options.delimiter = dialect.delimiter;
    options.quote = dialect.quote;
    options.header = dialect.header;
  }
  static std::vector<std::uint64_t> storage((1 << 20) / 8);
  const auto block = std::as_writable_bytes(std::span(storage));
  try {
    auto parser = CsvParser::Create(options, chunk);
    auto output = parser.Parse(chunk, block);
    if (!output) return 0;  // kBatchTooLarge is a legitimate answer
    auto view = BatchView::Open(output->batch);
    if (!view || view->row_count() != output->rows_out) std::abort();
    zcpipe::testing::ReadAll(*view);
    for (const auto& error : output->rejected) {
      if (error.byte_offset > size || error.line == 0) std::abort();
    }
  } catch (const std::invalid_argument&) {
    // configuration: e.g. a header that lacks the schema's columns
  }
  return 0;
}
