#include "zcpipe/stages/chunker.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "csv/csv_scan.h"

namespace zcpipe::stages {
namespace {

StageError IoError(const std::string& name, const char* what, int error) {
  return {StageErrc::kIo, name + ": " + what + ": " + std::generic_category().message(error)};
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
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (options.start_byte != 0 &&
      ::lseek(fd, static_cast<off_t>(options.start_byte), SEEK_SET) < 0) {
    const int error = errno;
    ::close(fd);
    return tl::unexpected(IoError(InputName(path), "cannot seek", error));
  }
  return Chunker(fd, path, options);
}

Chunker::Chunker(int fd, std::string path, const ChunkerOptions& options)
    : fd_(fd),
      name_(InputName(path)),
      options_(options),
      file_offset_(options.start_byte),
      next_index_(options.start_index),
      next_line_(options.start_line),
      next_byte_(options.start_byte) {}

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
      rejected_(std::move(other.rejected_)) {}

Chunker::~Chunker() {
  if (fd_ >= 0) ::close(fd_);
}

InputErrors Chunker::TakeRejected() { return std::exchange(rejected_, {}); }

StageResult<std::size_t> Chunker::Fill(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size() && !eof_) {
    const ssize_t n = ::read(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(IoError(name_, "read failed", errno));
    if (n == 0) eof_ = true;
    done += static_cast<std::size_t>(n);
    file_offset_ += static_cast<std::uint64_t>(n);
  }
  return done;
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
      next_byte_ += end;
      ++next_line_;
      return {};
    }
    next_byte_ += filled;
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
    next_byte_ += end;
    return chunk;
  }
}

}  // namespace zcpipe::stages
