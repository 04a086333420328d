// What every parser takes (a chunk of input) and gives (a record batch plus rejected rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "zcpipe/stages/input_error.h"

namespace zcpipe::stages {

// A run of whole records from one input, as cut by a chunker.
struct Chunk {
  std::span<const std::byte> bytes;
  std::uint64_t index = 0;       // position among the input's chunks, from 0
  std::uint64_t first_line = 1;  // 1-based line number of bytes[0]
  std::uint64_t first_byte = 0;  // offset of bytes[0] in the input
};

// The result of parsing (a prefix of) a chunk into one arena block.
struct ParseOutput {
  std::span<std::byte> batch;  // the RecordBatch, a suffix of the output block
  std::uint32_t rows_out = 0;  // rows in the batch
  InputErrors rejected;        // rows that were not, each with its reason
  // Bytes of the chunk these rows came from. Less than the chunk when the block filled up:
  // parse the rest (a Chunk starting there, same index) into another block.
  std::size_t bytes_consumed = 0;
  std::uint64_t lines_consumed = 0;  // physical lines in those bytes
};

}  // namespace zcpipe::stages
