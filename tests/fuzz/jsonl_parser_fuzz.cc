// libFuzzer entry for JsonlParser: any bytes as a chunk, parsed with a fixed schema of every
// column type and with the schema inferred from them, into a large block and into one small
// enough to force prefix parsing. Besides crashes and sanitizer reports, aborts when a promise
// breaks: every non-blank line is a row out or a rejected row, each block's batch verifies, and
// every rejected row points into the chunk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "read_all.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/jsonl.h"

namespace {

using zcpipe::stages::BatchView;
using zcpipe::stages::Chunk;
using zcpipe::stages::ColumnType;
using zcpipe::stages::JsonlOptions;
using zcpipe::stages::JsonlParser;
using zcpipe::stages::Schema;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Lines with something besides JSON whitespace, counted without the parser's help. A UTF-8
// byte order mark that begins the input is no content (the parser skips it there).
std::uint64_t CountRows(std::span<const std::byte> bytes) {
  if (bytes.size() >= 3 && bytes[0] == std::byte{0xEF} && bytes[1] == std::byte{0xBB} &&
      bytes[2] == std::byte{0xBF}) {
    bytes = bytes.subspan(3);
  }
  std::uint64_t rows = 0;
  bool content = false;
  for (const std::byte b : bytes) {
    const char c = static_cast<char>(b);
    if (c == '\n') {
      rows += content ? 1 : 0;
      content = false;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      content = true;
    }
  }
  return rows + (content ? 1 : 0);
}

// Parses all of `bytes`, a block at a time, as the pipeline would.
void ParseAll(JsonlParser& parser, std::span<const std::byte> bytes, std::size_t block_size) {
  std::vector<std::uint64_t> storage(block_size / 8);
  const auto block = std::as_writable_bytes(std::span(storage));
  std::uint64_t rows = 0;
  std::uint64_t line = 1;
  std::size_t offset = 0;
  do {
    const Chunk chunk{bytes.subspan(offset), 0, line, offset};
    auto output = parser.Parse(chunk, block);
    Check(output.has_value());
    auto view = BatchView::Open(output->batch);
    Check(view.has_value() && view->row_count() == output->rows_out);
    zcpipe::testing::ReadAll(*view);
    for (const auto& error : output->rejected) {
      Check(error.line >= line && error.line < line + output->lines_consumed);
      Check(error.byte_offset >= offset && error.byte_offset < offset + output->bytes_consumed);
      (void)error.Describe();
    }
    Check(output->bytes_consumed <= chunk.bytes.size());
    Check(output->bytes_consumed > 0 || chunk.bytes.empty());
    rows += output->rows_out + output->rejected.size();
    offset += output->bytes_consumed;
    line += output->lines_consumed;
  } while (offset < bytes.size());
  Check(rows == CountRows(bytes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static JsonlParser fixed(JsonlOptions{
      Schema::Parse("a:int64,b:float64,c:bool,d:string,e:timestamp,f:date,g:datetime")});
  const std::span bytes(reinterpret_cast<const std::byte*>(data), size);
  ParseAll(fixed, bytes, 1 << 16);
  ParseAll(fixed, bytes, 2048);

  // Short keys like "a" or "e" appear often in fuzzed input, so this mostly finds columns.
  Schema inferred = JsonlParser::InferSchema(Chunk{bytes, 0, 1, 0}, 50);
  if (inferred.size() <= 64) {  // an empty batch of 64 columns fits the block
    JsonlParser parser(JsonlOptions{std::move(inferred)});
    ParseAll(parser, bytes, 1 << 16);
  }
  return 0;
}
