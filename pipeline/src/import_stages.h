// The import's stages as a worker member (isolated placement): what the coordinator sends to set
// one up, the calls it makes, and the replies it reads. Private to zcpipe::pipeline.
//
// One member per worker holds a job's parser, transform and sealer. Two calls:
//  - kProcess: parse (and transform) one chunk. input = the chunk, output = a block for the
//    batch, which lands inside BatchRoom so that it can be sealed in place, as a suffix; the
//    reply (counts, rejected rows) goes before it, at kFrameHeaderSize. args = {kProcess |
//    chunk length << 8, chunk index, first line, first byte}. Returns the batch's end.
//  - kSeal: seal the batch `input` as frame args[1], out of place: the frame goes to the start
//    of `output` (the batch's own block when the batch, its tail, leaves room; else another),
//    so the batch stays intact and a seal cut short by a crash can be re-run. Returns the
//    frame's size.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::detail {

inline constexpr char kImportStagesMember[] = "zcpipe.import_stages";
enum StageOp : std::uint64_t { kProcess = 1, kSeal = 2 };

struct StageSetup {
  bool csv = true;
  char delimiter = ',';
  bool header = true;
  std::string schema = {};        // the parsed schema, Schema::ToString()
  std::string first_record = {};  // CSV: the input's first record (the header the parser reads)
  std::vector<stages::TransformStep> steps = {};
  std::string payload_key = {};  // empty: no sealing
};

// The set-up's public part (member args) and its secret part (keys: the private channel).
struct EncodedSetup {
  std::string args, secret;
};
[[nodiscard]] EncodedSetup Encode(const StageSetup& setup);

// What kProcess reports besides the batch.
struct ProcessReply {
  std::uint64_t batch_offset = 0, batch_size = 0;  // in the output block
  std::uint64_t rows_in = 0, rows_out = 0, rows_filtered = 0;
  std::uint64_t bytes_consumed = 0, lines_consumed = 0;
  stages::InputErrors rejected;
};
// Reads and checks the reply in `block` (the output block up to the batch's end, as returned;
// it comes from a worker: nothing in it is trusted).
[[nodiscard]] std::optional<ProcessReply> ReadReply(std::span<const std::byte> region);

// The records of a chunk that could not be parsed (a poison chunk), as rejected rows with their
// line, offset and raw text, split as the chunker does (`quote` '\0' for JSON Lines).
[[nodiscard]] stages::InputErrors SplitRecords(std::span<const std::byte> bytes, char quote,
                                               std::uint64_t first_line, std::uint64_t first_byte);

}  // namespace zcpipe::detail
