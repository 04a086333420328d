// The import's stages as a worker member (isolated placement): what the coordinator sends to set
// one up, the calls it makes, and the replies it reads. Private to zcpipe::pipeline.
//
// One member per worker holds a job's parser, transform and sealer. Two calls:
//  - kProcess: parse (and transform) one chunk, or what is left of it, and seal the batch if
//    the chunk's first frame index is known by then. args = {kProcess | batches the chunk made
//    before << 8 | length << 32, chunk index, first line, first byte, first row}: with a
//    transform, the rows of the parsed batch from `first row` on (the transform's output may
//    need several blocks, one request each; ProcessReply::next_row). input = the bytes to
//    parse (its first `length`), then, with the zero-copy transport, the rest of the chunk's
//    block, whose last 8 bytes are the chunk's FrameLedger slot. output = a block:
//      [0, 8)                          kSealingMark once sealing began, else what the caller
//                                      put there (it zeroes it)
//      ...                             unused
//      [r, r + 8)                      the reply's size R; the result begins here
//      [r + 8, r + 8 + R)              the reply (ProcessReply: counts, rejected rows, where
//                                      the batch and the frame are)
//      [frame_offset, batch_offset)    the sealed frame, when frame_size != 0
//      [batch_offset, end)             the batch: the tail of the last batch_room bytes before
//                                      room for a tag at the block's end; the result ends here
//    (Offsets are the block's.) With the copy transport only the result is copied back.
//    The batch stays intact, for the Verifier and for sealing it again.
//  - kSeal: seal the batch `input` as frame args[1], out of place: the frame goes to the start
//    of `output` (the batch's own block when the batch, its tail, leaves room; else another),
//    so the batch stays intact and a seal cut short by a crash can be re-run. Returns the
//    frame's size.
#pragma once

#include <cstddef>
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
// Registers the import's worker code (ImportStages, as kImportStagesMember) with the workgroup
// registry; idempotent. Done before main() already; a test that wraps the member calls it
// before replacing the entry.
void RegisterPipelineMembers();
enum StageOp : std::uint64_t { kProcess = 1, kSeal = 2 };
inline constexpr std::size_t kReplyMin = 16;  // the mark and the reply's size
// A worker writes it to its output block before it seals a frame there. The block outlives the
// worker, so after a crash the caller can tell whether the request may have used its index:
// then the request must not be cut into smaller ones (poison narrowing), as that would seal
// another batch under the same index, which AES-GCM forbids (the index is the nonce).
inline constexpr std::uint64_t kSealingMark = 0x676e696c61657321;  // "!sealing"
static_assert(kReplyMin == 16 && kSealingMark == 0x676e696c61657321,
              "docs/shm-layout.md: import blocks");

struct StageSetup {
  bool csv = true;
  char delimiter = ',';
  bool header = true;
  char quote = '"';               // 0: no quoting
  bool strict = false;            // CsvOptions::strict
  bool decimal_comma = false;     // CsvOptions::decimal_comma
  std::string schema = {};        // the parsed schema, Schema::ToString()
  std::string first_record = {};  // CSV: the input's first record (the header the parser reads)
  std::uint64_t batch_room = 0;   // the most bytes a batch may take (as in-process)
  std::vector<stages::TransformStep> steps = {};
  std::string payload_key = {};  // empty: no sealing
};

// The set-up's public part (member args) and its secret part (keys: the private channel).
struct EncodedSetup {
  std::string args;
  stages::SecretBytes secret;  // the keys: wiped when it goes
};
[[nodiscard]] EncodedSetup Encode(const StageSetup& setup);

// What kProcess reports besides the batch.
struct ProcessReply {
  std::uint64_t batch_offset = 0, batch_size = 0;  // in the output block
  std::uint64_t rows_in = 0, rows_out = 0, rows_filtered = 0;
  std::uint64_t bytes_consumed = 0, lines_consumed = 0;
  // Not 0 when the transform's output filled the block before the parsed batch's row
  // `next_row`, which starts on line `next_line`: the caller sends the same bytes again with
  // args[4] = next_row (the same batches as in-process), then the rest.
  std::uint64_t next_row = 0, next_line = 0;
  std::uint64_t frame_index = 0, frame_offset = 0, frame_size = 0;  // frame_size 0: not sealed
  std::uint64_t seal_nanos = 0;                                     // the time sealing took
  stages::InputErrors rejected;
};
// Reads and checks the reply at the start of `result`, a kProcess result that begins `at` bytes
// into its block. It comes from a worker: nothing in it is trusted. Each byte is read once,
// into private memory (the worker may still be writing the block); the frame and batch it
// names are only checked for bounds here (TakeProcessResult checks them).
[[nodiscard]] std::optional<ProcessReply> ReadReply(std::span<const std::byte> result,
                                                    std::uint64_t at);

// The records of a chunk that could not be parsed (a poison chunk), as rejected rows with their
// line, offset and raw text, split as the chunker and the parser split them
// (stages::SplitRecords: a quote opens a quoted field only after `delimiter`, a newline or the
// start; `quote` '\0' for JSON Lines); the first `limit` of them only, if there are more.
[[nodiscard]] stages::InputErrors SplitRecords(std::span<const std::byte> bytes, char delimiter,
                                               char quote, std::uint64_t first_line,
                                               std::uint64_t first_byte,
                                               std::size_t limit = SIZE_MAX);

}  // namespace zcpipe::detail
