// Test harness: runs text through Chunker + CsvParser the way the pipeline will, and renders
// every row as strings so results are easy to compare.
#pragma once

#include <string>
#include <vector>

#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/input_error.h"

namespace zcpipe::stages::testing {

struct Parsed {
  Schema schema;
  std::vector<std::vector<std::string>> rows;  // rendered values, "<null>" for null
  std::vector<std::uint64_t> lines;            // each row's first line
  InputErrors rejected;                        // from chunker and parser, in input order
  std::size_t chunks = 0;
};

// Writes `text` to a temporary file and imports it with chunks of `chunk_size` bytes into
// blocks of `block_size` bytes.
Parsed ParseCsv(const std::string& text, CsvOptions options = {}, std::size_t chunk_size = 1 << 16,
                std::size_t block_size = 1 << 20);

// A column value rendered as text.
std::string Render(const ColumnView& column, std::uint32_t row);

}  // namespace zcpipe::stages::testing
