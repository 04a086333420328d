// Chunker: cuts an input file into chunks of whole records, read straight into arena blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/stages/encoding.h"
#include "zcpipe/stages/error.h"
#include "zcpipe/stages/parse.h"

namespace zcpipe::stages {
namespace detail {
class Decoder;
}  // namespace detail

// The path that names standard input, for Chunker::Open and zcpipe::JobConfig::input.
inline constexpr std::string_view kStandardInput = "-";
// How messages name input `path`: "<stdin>" for kStandardInput, else the path itself.
[[nodiscard]] std::string InputName(std::string_view path);

struct ChunkerOptions {
  std::size_t chunk_size = 8u << 20;    // target bytes per chunk; REQUIRES > 0
  char quote = '"';                     // CSV: newlines inside quotes do not end records;
                                        // 0: every newline ends one (JSON Lines)
  char delimiter = ',';                 // CSV: tells a field start, where a quote may open
  Encoding encoding = Encoding::kUtf8;  // the input's; chunks are UTF-8 (see the class comment)
  // Where to begin (resuming an import): a record boundary, its line number and chunk index.
  std::uint64_t start_byte = 0;
  std::uint64_t start_line = 1;
  std::uint64_t start_index = 0;
};

// A record of a chunk: bytes [begin, end) of the chunk, without its line ending; it starts on
// input line `line`.
struct RecordSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::uint64_t line = 0;
};

// The records of `chunk` (whole records, as a Chunker cuts them), split exactly as the Chunker
// and the parsers split them: a record ends at a newline outside quotes (`quote` 0: at every
// newline, JSON Lines) or at the chunk's end, so an unterminated quoted field runs to the end;
// a quote opens a quoted field only at a field start (after `delimiter`, a newline or the
// start); CR before LF is no part of a record; an empty line is no record; with quoting, a
// UTF-8 byte-order mark at the input's start is skipped, as the CSV parser skips it. The first
// `limit` records only. `delimiter` 0: not known, so any quote opens or closes a quoted field.
// REQUIRES: chunk.bytes.size() < 2^32.
[[nodiscard]] std::vector<RecordSpan> SplitRecords(const Chunk& chunk, char delimiter, char quote,
                                                   std::size_t limit = SIZE_MAX);

// Reads a file sequentially and hands out chunks of about `chunk_size` bytes that end on a
// record boundary, each read directly into the block the caller provides. The bytes of a
// partial last record are carried over into the next chunk (a copy of less than one record).
// A chunk knows its index, first line and byte offset.
//
// Encodings: input in another encoding than UTF-8 is converted to UTF-8 as it is read (iconv,
// through a small buffer; a character split across two reads is carried over), so chunks are
// always UTF-8. Their first_byte, next_byte() and the offsets of the records this class
// rejects are offsets in the input as it is on disk (a resume seeks there); a parser's offsets
// inside a chunk are in its UTF-8 text, which ToInputOffsets maps back. Lines are the input's.
// UTF-16 input needs a byte order mark at its start (kUtf16), and a kUtf8 input (the default)
// that starts with one is UTF-16 too (the mark is no UTF-8): encoding() tells which. The mark
// itself becomes a UTF-8 one (U+FEFF), which the parsers skip. Bytes that are no character of the
// encoding, or an input that ends inside one, are an error (kBadEncoding) naming the line and
// the input offset; nothing is replaced. UTF-8 input is read straight into the blocks, as is.
//
// A record that does not fit one block (a runaway quoted field, or a giant line) is not
// returned: it is reported through TakeRejected() (kRecordTooLarge, or kUnterminatedQuote at
// the end of the input), input is skipped to the next line, and chunking goes on. Nothing is
// silently dropped, and no input makes it loop or hang.
//
// Reads with read(2) only, so a pipe, a FIFO or a terminal is an input like a file.
// Owns its file descriptor. Thread-compatible: one thread calls Next.
class Chunker {
 public:
  // `path` kStandardInput ("-") reads standard input (a descriptor of its own; options.start_byte
  // must be 0 unless it is a regular file). Errors: kIo (the message names the path and the
  // reason), kInvalidArgument, kBadEncoding (kUtf16 and a resumed input without a mark).
  [[nodiscard]] static StageResult<Chunker> Open(const std::string& path,
                                                 const ChunkerOptions& options);
  Chunker(Chunker&& other) noexcept;
  Chunker& operator=(Chunker&&) = delete;
  ~Chunker();

  // Fills `block` with the next chunk and describes it; nullopt at the end of the input.
  // The chunk's bytes are a prefix of `block`. Errors: kIo, kBadEncoding.
  [[nodiscard]] StageResult<std::optional<Chunk>> Next(std::span<std::byte> block);

  // Records dropped since the last call (see the class comment).
  [[nodiscard]] InputErrors TakeRejected();

  [[nodiscard]] std::uint64_t bytes_read() const { return file_offset_; }
  // Where the next chunk starts: input offset, line and index (a resume point).
  [[nodiscard]] std::uint64_t next_byte() const { return next_byte_; }
  [[nodiscard]] std::uint64_t next_line() const { return next_line_; }
  [[nodiscard]] std::uint64_t next_index() const { return next_index_; }
  [[nodiscard]] const std::string& name() const { return name_; }  // InputName(path)
  // The input's encoding: options.encoding, or the byte order mark's (kUtf16Le or kUtf16Be)
  // once the first chunk was read (at once when resuming).
  [[nodiscard]] Encoding encoding() const { return encoding_; }
  // The CSV dialect of the chunks after the first (sniffed from it; see
  // zcpipe/stages/csv_dialect.h).
  void set_dialect(char delimiter, char quote) {
    options_.delimiter = delimiter;
    options_.quote = quote;
  }

 private:
  Chunker(int fd, std::string path, const ChunkerOptions& options);
  // Reads (and converts) into out until it is full or the input ends; returns the bytes written.
  StageResult<std::size_t> Fill(std::span<std::byte> out);
  // One read(2) into out (again on EINTR); returns the bytes read, 0 at the end of the input.
  StageResult<std::size_t> ReadOnce(std::span<std::byte> out);
  // Fill for UTF-8 input: read(2) straight into out.
  StageResult<std::size_t> Read(std::span<std::byte> out);
  // Fill for other input: read(2) into raw_, converted into out.
  StageResult<std::size_t> Convert(std::span<std::byte> out);
  // Reads once more into raw_ (after what is left of it); sets raw_eof_ at the end.
  StageResult<void> ReadRaw();
  // Before the first Fill of an input read from its start: its byte order mark decides.
  StageResult<void> SniffByteOrderMark(std::span<std::byte> out, std::size_t& read);
  // Takes `encoding` on: converts from here on.
  StageResult<void> StartDecoding(Encoding encoding);
  // Bytes of input that `text` (converted, whole characters) came from.
  [[nodiscard]] std::uint64_t InputBytes(std::span<const std::byte> text) const;
  [[nodiscard]] StageError BadEncoding(const std::string& why) const;
  // Drops the record at the start of `data` up to and including its first newline.
  StageResult<void> SkipOversizedRecord(std::span<std::byte> block, std::size_t filled,
                                        bool in_quote);

  int fd_;
  std::string name_;
  ChunkerOptions options_;
  std::vector<std::byte> carry_;   // start of the next record, read but not yet handed out
  std::uint64_t file_offset_ = 0;  // bytes read from the file
  std::uint64_t next_index_ = 0;
  std::uint64_t next_line_ = 1;
  std::uint64_t next_byte_ = 0;  // input offset of carry_[0]
  bool eof_ = false;  // nothing more to hand out: the input ended (and raw_ is converted)
  InputErrors rejected_;

  Encoding encoding_;
  bool sniff_ = false;                        // the next Fill is the input's first
  std::unique_ptr<detail::Decoder> decoder_;  // null: UTF-8, read as is
  std::vector<std::byte> raw_;  // input read, not yet converted: [raw_begin_, raw_end_)
  std::size_t raw_begin_ = 0, raw_end_ = 0;
  bool raw_eof_ = false;               // read(2) found the end of the input
  std::uint64_t lines_converted_ = 0;  // newlines in the text converted so far
};

}  // namespace zcpipe::stages
