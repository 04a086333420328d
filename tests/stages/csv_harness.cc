#include "csv_harness.h"

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "zcpipe/stages/chunker.h"

namespace zcpipe::stages::testing {

std::string Render(const ColumnView& column, std::uint32_t row) {
  if (column.is_null(row)) return "<null>";
  switch (column.type()) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      return std::to_string(column.int64(row));
    case ColumnType::kFloat64: {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", column.float64(row));
      return text;
    }
    case ColumnType::kBool:
      return column.boolean(row) ? "true" : "false";
    case ColumnType::kString:
      return std::string(column.string(row));
  }
  return "?";
}

Parsed ParseCsv(const std::string& text, CsvOptions options, std::size_t chunk_size,
                std::size_t block_size) {
  char path[] = "/tmp/zcpipe-csv-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  ::close(fd);
  struct Unlink {  // also when a parse throws, as some tests expect it to
    const char* path;
    ~Unlink() { ::unlink(path); }
  } unlink_on_return{path};
  std::ofstream(path, std::ios::binary) << text;

  auto chunker = Chunker::Open(
      path, {.chunk_size = chunk_size, .quote = options.quote, .delimiter = options.delimiter});
  if (!chunker) throw std::runtime_error(chunker.error().message);
  std::vector<std::uint64_t> in_block(block_size / 8), out_block(block_size / 8);
  const auto in = std::as_writable_bytes(std::span(in_block));
  const auto out = std::as_writable_bytes(std::span(out_block));
  Parsed parsed;
  std::optional<CsvParser> parser;
  for (;;) {
    auto next = chunker->Next(in);
    if (!next) throw std::runtime_error(next.error().message);
    for (auto& error : chunker->TakeRejected()) parsed.rejected.push_back(std::move(error));
    if (!*next) break;
    Chunk chunk = **next;
    ++parsed.chunks;
    if (!parser) parser = CsvParser::Create(options, chunk);
    for (;;) {  // a chunk may need several output blocks
      auto result = parser->Parse(chunk, out);
      if (!result) throw std::runtime_error(result.error().message);
      auto view = BatchView::Open(result->batch);
      if (!view) throw std::runtime_error(view.error().message);
      for (std::uint32_t r = 0; r < view->row_count(); ++r) {
        auto& row = parsed.rows.emplace_back();
        for (std::size_t c = 0; c < view->column_count(); ++c) {
          row.push_back(Render(view->column(c), r));
        }
        parsed.lines.push_back(view->row_line(r));
      }
      for (auto& error : result->rejected) parsed.rejected.push_back(std::move(error));
      if (result->bytes_consumed == chunk.bytes.size()) break;
      chunk.bytes = chunk.bytes.subspan(result->bytes_consumed);
      chunk.first_byte += result->bytes_consumed;
      chunk.first_line += result->lines_consumed;
    }
  }
  if (parser) parsed.schema = parser->schema();
  return parsed;
}

}  // namespace zcpipe::stages::testing
