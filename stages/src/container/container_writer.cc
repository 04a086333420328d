// ContainerWriter: header at Create, frames in order, temporary file until Commit.
#include <vector>

#include "container/byte_source.h"
#include "container/container_header.h"
#include "crypto/chunk_cipher.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::stages {

using container_detail::Fail;

struct ContainerWriter::Impl {
  AtomicFile file;
  ChunkSealer sealer;
  std::uint64_t next_index = 0;
  bool last_appended = false;
  bool failed = false;             // a write failed: the file's content is unknown, refuse to go on
  std::vector<std::byte> scratch;  // Write()'s frame buffer
};

ContainerResult<ContainerWriter> ContainerWriter::Create(const std::filesystem::path& path,
                                                         const Credential& credential,
                                                         const ContainerWriterOptions& options) {
  // The destination first: an existing file is reported before scrypt's work. On any later
  // failure `file` removes its temporary file.
  auto file = AtomicFile::Create(path, options.replace_existing);
  if (!file) return tl::unexpected(file.error());
  auto header = container_detail::BuildHeader(credential, options.schema);
  if (!header) return tl::unexpected(header.error());
  if (auto written = file->Write(header->bytes); !written) return tl::unexpected(written.error());
  auto impl = std::unique_ptr<Impl>(
      new Impl{std::move(*file), ChunkSealer(std::move(header->payload_key)), 0, false, false, {}});
  return ContainerWriter(std::move(impl));
}

ContainerResult<ContainerWriter> ContainerWriter::Resume(const std::filesystem::path& path,
                                                         const std::filesystem::path& temp_path,
                                                         const Credential& credential,
                                                         const ContainerWriterOptions& options,
                                                         std::uint64_t frames,
                                                         std::uint64_t bytes) {
  // `temp_path` comes from a journal: only a temporary file of `path` is read (and then taken).
  if (auto named = RequireTemporaryOf(path, temp_path); !named)
    return tl::unexpected(named.error());
  auto source = container_detail::OpenFileSource(temp_path);
  if (!source) return tl::unexpected(source.error());
  auto header = container_detail::ReadHeader(**source);
  if (!header) return tl::unexpected(header.error());
  auto payload_key = container_detail::UnlockHeader(*header, credential);
  if (!payload_key) return tl::unexpected(payload_key.error());
  if (header->info.schema != options.schema) {
    return Fail(
        ContainerErrc::kMalformedHeader,
        "the unfinished container has schema " + header->info.schema + ", not " + options.schema);
  }
  if (bytes < header->bytes.size()) {
    return Fail(ContainerErrc::kInvalidArgument, "resume point inside the header");
  }
  auto file = AtomicFile::Resume(path, temp_path, options.replace_existing, bytes);
  if (!file) return tl::unexpected(file.error());
  auto impl = std::unique_ptr<Impl>(
      new Impl{std::move(*file), ChunkSealer(std::move(*payload_key)), frames, false, false, {}});
  return ContainerWriter(std::move(impl));
}

ContainerStatus ContainerWriter::Sync() { return impl_->file.Sync(); }
void ContainerWriter::Keep() { impl_->file.Keep(); }

ContainerWriter::ContainerWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ContainerWriter::ContainerWriter(ContainerWriter&&) noexcept = default;
ContainerWriter& ContainerWriter::operator=(ContainerWriter&&) noexcept = default;
ContainerWriter::~ContainerWriter() = default;  // AtomicFile removes an uncommitted file

const ChunkSealer& ContainerWriter::sealer() const { return impl_->sealer; }

ContainerStatus ContainerWriter::Append(std::span<const std::byte> frame) {
  Impl& s = *impl_;
  if (s.failed) return Fail(ContainerErrc::kInvalidArgument, "an earlier write failed");
  if (s.last_appended) {
    return Fail(ContainerErrc::kInvalidArgument, "a frame after the final chunk", s.next_index);
  }
  if (frame.size() < kChunkOverhead) {
    return Fail(ContainerErrc::kInvalidArgument, "frame shorter than its overhead", s.next_index);
  }
  const auto header = container_detail::DecodeFrameHeader(frame.first<kFrameHeaderSize>());
  if (header.index != s.next_index) {
    return Fail(ContainerErrc::kInvalidArgument,
                "frame of chunk " + std::to_string(header.index) + " appended when chunk " +
                    std::to_string(s.next_index) + " is due",
                s.next_index);
  }
  if (header.last > 1 || header.length > kMaxChunkPlaintext ||
      frame.size() != header.length + kChunkOverhead) {
    return Fail(ContainerErrc::kInvalidArgument, "not a frame made by ChunkSealer::Seal",
                s.next_index);
  }
  const std::uint64_t offset = s.file.size();
  if (auto written = s.file.Write(frame); !written) {
    s.failed = true;
    auto error = written.error();
    error.chunk_index = s.next_index;
    error.byte_offset = offset;
    return tl::unexpected(std::move(error));
  }
  ++s.next_index;
  s.last_appended = header.last == 1;
  return {};
}

ContainerStatus ContainerWriter::Write(std::span<const std::byte> plaintext, bool last) {
  Impl& s = *impl_;
  s.scratch.resize(plaintext.size() + kChunkOverhead);
  auto sealed = s.sealer.Seal(s.next_index, last, plaintext, s.scratch);
  if (!sealed) return tl::unexpected(sealed.error());
  return Append(std::span(s.scratch).first(*sealed));
}

ContainerStatus ContainerWriter::Commit() {
  Impl& s = *impl_;
  if (s.failed) return Fail(ContainerErrc::kInvalidArgument, "an earlier write failed");
  if (!s.last_appended) {
    return Fail(ContainerErrc::kInvalidArgument,
                "no final chunk: seal the last chunk (possibly empty) with last = true");
  }
  auto committed = s.file.Commit();
  if (!committed) s.failed = true;
  return committed;
}

std::uint64_t ContainerWriter::chunks_appended() const { return impl_->next_index; }
std::uint64_t ContainerWriter::bytes_written() const { return impl_->file.size(); }
const std::filesystem::path& ContainerWriter::temp_path() const { return impl_->file.temp_path(); }

}  // namespace zcpipe::stages
