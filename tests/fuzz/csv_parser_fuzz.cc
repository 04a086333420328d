// libFuzzer target: any bytes as CSV. The first byte picks the options. Never crashes, and
// whatever comes out is a valid batch whose rows plus rejections are all accounted for.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "read_all.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zcpipe::stages;
  if (size == 0) return 0;
  CsvOptions options;
  options.delimiter = (data[0] & 1) != 0 ? ';' : ',';
  options.header = (data[0] & 2) != 0;
  if ((data[0] & 4) != 0) options.schema = Schema::Parse("a:int64,b:float64,c,d:bool,e:timestamp");
  if ((data[0] & 8) != 0) options.schema = Schema::Parse("a:date,b:datetime,c:timestamp");
  const Chunk chunk{std::as_bytes(std::span(data + 1, size - 1)), 0, 1, 0};
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
