#include "zcpipe/stages/chunker.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "csv/csv_scan.h"
#include "decoder.h"

namespace zcpipe::stages {
namespace {

constexpr std::size_t kRawBufferSize = 128U << 10;  // input read ahead of its conversion

StageError IoError(const std::string& name, const char* what, int error) {
  return {StageErrc::kIo, name + ": " + what + ": " + std::generic_category().message(error)};
}

bool IsUtf16(Encoding encoding) {
  return encoding == Encoding::kUtf16 || encoding == Encoding::kUtf16Le ||
         encoding == Encoding::kUtf16Be;
}

// The encoding a UTF-16 byte order mark at the start of `start` says, if there is one.
std::optional<Encoding> ByteOrderMark(std::span<const std::byte> start) {
  if (start.size() < 2) return std::nullopt;
  if (start[0] == std::byte{0xFF} && start[1] == std::byte{0xFE}) return Encoding::kUtf16Le;
  if (start[0] == std::byte{0xFE} && start[1] == std::byte{0xFF}) return Encoding::kUtf16Be;
  return std::nullopt;
}

// What an input in `declared` that starts with `start` is in (REQUIRES: declared is kUtf8 or
// UTF-16), or why it cannot be read so.
tl::expected<Encoding, std::string> ResolveByteOrder(Encoding declared,
                                                     std::span<const std::byte> start) {
  const auto mark = ByteOrderMark(start);
  if (declared == Encoding::kUtf8) return mark.value_or(Encoding::kUtf8);
  if (declared == Encoding::kUtf16) {
    if (mark) return *mark;
    return tl::unexpected(std::string(
        "utf-16 input must start with a byte order mark: pass --encoding utf-16le or utf-16be"));
  }
  if (mark && *mark != declared) {
    return tl::unexpected(std::string("starts with the byte order mark of ") + Name(*mark) +
                          ", not " + Name(declared));
  }
  return declared;
}

}  // namespace

std::string InputName(std::string_view path) {
  return path == kStandardInput ? "<stdin>" : std::string(path);
}

StageResult<Chunker> Chunker::Open(const std::string& path, const ChunkerOptions& options) {
  if (options.chunk_size == 0) return StageFail(StageErrc::kInvalidArgument, "chunk size is 0");
  const int fd = path == kStandardInput ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                        : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(IoError(InputName(path), "cannot open", errno));
  Chunker chunker(fd, path, options);  // owns fd from here
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (options.start_byte != 0 &&
      ::lseek(fd, static_cast<off_t>(options.start_byte), SEEK_SET) < 0) {
    return tl::unexpected(IoError(chunker.name_, "cannot seek", errno));
  }
  Encoding encoding = options.encoding;
  if (options.start_byte != 0 && (encoding == Encoding::kUtf8 || IsUtf16(encoding))) {
    std::array<std::byte, 2> start{};  // resuming: the mark at the start still decides
    const ssize_t n = ::pread(fd, start.data(), start.size(), 0);
    if (n < 0) return tl::unexpected(IoError(chunker.name_, "read failed", errno));
    auto resolved = ResolveByteOrder(encoding, std::span(start).first(static_cast<std::size_t>(n)));
    if (!resolved) return tl::unexpected(chunker.BadEncoding(resolved.error()));
    encoding = *resolved;
  }
  if (encoding != Encoding::kUtf8 && !(options.start_byte == 0 && IsUtf16(encoding))) {
    if (auto started = chunker.StartDecoding(encoding); !started) {
      return tl::unexpected(started.error());
    }
  }
  return chunker;
}

Chunker::Chunker(int fd, std::string path, const ChunkerOptions& options)
    : fd_(fd),
      name_(InputName(path)),
      options_(options),
      file_offset_(options.start_byte),
      next_index_(options.start_index),
      next_line_(options.start_line),
      next_byte_(options.start_byte),
      encoding_(options.encoding),
      sniff_(options.start_byte == 0 &&
             (options.encoding == Encoding::kUtf8 || IsUtf16(options.encoding))) {}

Chunker::Chunker(Chunker&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      options_(other.options_),
      carry_(std::move(other.carry_)),
      file_offset_(other.file_offset_),
      next_index_(other.next_index_),
      next_line_(other.next_line_),
      next_byte_(other.next_byte_),
      eof_(other.eof_),
      rejected_(std::move(other.rejected_)),
      encoding_(other.encoding_),
      sniff_(other.sniff_),
      decoder_(std::move(other.decoder_)),
      raw_(std::move(other.raw_)),
      raw_begin_(other.raw_begin_),
      raw_end_(other.raw_end_),
      raw_eof_(other.raw_eof_),
      lines_converted_(other.lines_converted_) {}

Chunker::~Chunker() {
  if (fd_ >= 0) ::close(fd_);
}

InputErrors Chunker::TakeRejected() { return std::exchange(rejected_, {}); }

StageResult<std::size_t> Chunker::Fill(std::span<std::byte> out) {
  std::size_t read = 0;
  if (sniff_) {
    sniff_ = false;
    if (auto sniffed = SniffByteOrderMark(out, read); !sniffed) {
      return tl::unexpected(sniffed.error());
    }
  }
  if (!decoder_) {
    auto more = Read(out.subspan(read));
    if (!more) return more;
    return read + *more;
  }
  return Convert(out);
}

StageResult<std::size_t> Chunker::ReadOnce(std::span<std::byte> out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(IoError(name_, "read failed", errno));
    file_offset_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
}

StageResult<std::size_t> Chunker::Read(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size() && !eof_) {
    auto n = ReadOnce(out.subspan(done));
    if (!n) return n;
    eof_ = *n == 0;
    done += *n;
  }
  return done;
}

StageResult<void> Chunker::SniffByteOrderMark(std::span<std::byte> out, std::size_t& read) {
  if (encoding_ == Encoding::kUtf8) {  // read as UTF-8, unless the first bytes say otherwise
    auto first = Read(out);
    if (!first) return tl::unexpected(first.error());
    read = *first;
    const auto mark = ByteOrderMark(out.first(read));
    if (!mark) return {};
    // Those bytes were UTF-16: convert them first.
    raw_.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(read));
    raw_end_ = read;
    raw_eof_ = std::exchange(eof_, false);
    read = 0;
    return StartDecoding(*mark);
  }
  while (raw_end_ < 2 && !raw_eof_) {  // UTF-16: the mark decides which
    if (auto more = ReadRaw(); !more) return more;
  }
  if (raw_end_ == 0) return {};  // an empty input, in any byte order
  auto resolved = ResolveByteOrder(encoding_, std::span(raw_).first(raw_end_));
  if (!resolved) return tl::unexpected(BadEncoding(resolved.error()));
  return StartDecoding(*resolved);
}

StageResult<void> Chunker::StartDecoding(Encoding encoding) {
  auto decoder = detail::Decoder::Open(encoding);
  if (!decoder) {
    return StageFail(decoder.error().code, name_ + ": " + decoder.error().message);
  }
  decoder_ = std::make_unique<detail::Decoder>(std::move(*decoder));
  encoding_ = encoding;
  raw_.resize(std::max(raw_.size(), kRawBufferSize));
  return {};
}

StageResult<void> Chunker::ReadRaw() {
  if (raw_.size() < kRawBufferSize) raw_.resize(kRawBufferSize);
  std::copy(raw_.begin() + static_cast<std::ptrdiff_t>(raw_begin_),
            raw_.begin() + static_cast<std::ptrdiff_t>(raw_end_), raw_.begin());
  raw_end_ -= raw_begin_;
  raw_begin_ = 0;
  auto n = ReadOnce(std::span(raw_).subspan(raw_end_));
  if (!n) return tl::unexpected(n.error());
  raw_eof_ = *n == 0;
  raw_end_ += *n;
  return {};
}

StageResult<std::size_t> Chunker::Convert(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (raw_begin_ < raw_end_) {
      const auto step = decoder_->Convert(
          std::span(raw_).subspan(raw_begin_, raw_end_ - raw_begin_), out.subspan(done));
      const auto* text = reinterpret_cast<const char*>(out.data() + done);
      lines_converted_ += static_cast<std::uint64_t>(std::count(text, text + step.produced, '\n'));
      done += step.produced;
      raw_begin_ += step.consumed;
      using Stop = detail::Decoder::Stop;
      if (step.stop == Stop::kInvalid) {
        return tl::unexpected(BadEncoding(decoder_->Invalid(
            std::span(raw_).subspan(raw_begin_, std::min<std::size_t>(raw_end_ - raw_begin_, 2)))));
      }
      if (step.stop == Stop::kFull) break;
      if (step.stop == Stop::kDone) continue;
    }
    if (raw_eof_) {  // what is left is the start of a character that never ends
      if (raw_begin_ < raw_end_) {
        return tl::unexpected(BadEncoding("the input ends inside a character (" +
                                          std::to_string(raw_end_ - raw_begin_) +
                                          " byte(s) left over)"));
      }
      break;
    }
    if (auto more = ReadRaw(); !more) return tl::unexpected(more.error());
  }
  eof_ = raw_eof_ && raw_begin_ == raw_end_;
  return done;
}

std::uint64_t Chunker::InputBytes(std::span<const std::byte> text) const {
  return decoder_ ? InputLength(encoding_, text) : text.size();
}

StageError Chunker::BadEncoding(const std::string& why) const {
  // Where the unconverted input begins: the offset of the bytes at fault.
  const std::uint64_t offset = file_offset_ - (raw_end_ - raw_begin_);
  const std::uint64_t line = options_.start_line + lines_converted_;
  return {StageErrc::kBadEncoding, name_ + ":" + std::to_string(line) + ": line " +
                                       std::to_string(line) + " (byte " + std::to_string(offset) +
                                       "): invalid " + Name(encoding_) + ": " + why};
}

StageResult<void> Chunker::SkipOversizedRecord(std::span<std::byte> block, std::size_t filled,
                                               bool in_quote) {
  rejected_.push_back(
      {eof_ && in_quote ? InputErrc::kUnterminatedQuote : InputErrc::kRecordTooLarge,
       next_line_,
       next_byte_,
       {},
       "longer than the " + std::to_string(block.size()) + "-byte block",
       std::string(reinterpret_cast<const char*>(block.data()),
                   std::min<std::size_t>(filled, 256)) +
           "..."});
  // Resynchronize at the first newline, quotes or not.
  for (;;) {
    const auto* data = reinterpret_cast<const char*>(block.data());
    if (const void* nl = std::memchr(data, '\n', filled); nl != nullptr) {
      const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
      carry_.assign(block.begin() + static_cast<std::ptrdiff_t>(end),
                    block.begin() + static_cast<std::ptrdiff_t>(filled));
      next_byte_ += InputBytes(block.first(end));
      ++next_line_;
      return {};
    }
    next_byte_ += InputBytes(block.first(filled));
    if (eof_) {
      carry_.clear();
      return {};
    }
    auto more = Fill(block);
    if (!more) return tl::unexpected(more.error());
    filled = *more;
  }
}

StageResult<std::optional<Chunk>> Chunker::Next(std::span<std::byte> block) {
  for (;;) {
    if (carry_.size() > block.size()) {
      return StageFail(StageErrc::kInvalidArgument, "block smaller than the previous one");
    }
    std::copy(carry_.begin(), carry_.end(), block.begin());
    std::size_t filled = carry_.size();
    const std::size_t target = std::max(filled, std::min(options_.chunk_size, block.size()));
    auto read = Fill(block.subspan(filled, target - filled));
    if (!read) return tl::unexpected(read.error());
    filled += *read;
    if (filled == 0) return std::nullopt;

    std::size_t end = filled;  // at the end of the input, everything that is left
    if (!eof_) {
      auto boundary = detail::FindBoundary(reinterpret_cast<const char*>(block.data()), filled,
                                           options_.delimiter, options_.quote);
      if (boundary.end == 0 && filled < block.size()) {  // one long record: use the whole block
        auto more = Fill(block.subspan(filled));
        if (!more) return tl::unexpected(more.error());
        filled += *more;
        boundary = detail::FindBoundary(reinterpret_cast<const char*>(block.data()), filled,
                                        options_.delimiter, options_.quote);
        if (eof_) boundary.end = filled;
      }
      if (boundary.end == 0) {
        auto skipped = SkipOversizedRecord(block, filled, boundary.ends_in_quote);
        if (!skipped) return tl::unexpected(skipped.error());
        continue;
      }
      end = boundary.end;
    }
    const std::uint64_t lines =
        detail::CountNewlines(reinterpret_cast<const char*>(block.data()), end);
    carry_.assign(block.begin() + static_cast<std::ptrdiff_t>(end),
                  block.begin() + static_cast<std::ptrdiff_t>(filled));
    Chunk chunk{block.first(end), next_index_++, next_line_, next_byte_};
    next_line_ += lines;
    next_byte_ += InputBytes(block.first(end));
    return chunk;
  }
}

}  // namespace zcpipe::stages
