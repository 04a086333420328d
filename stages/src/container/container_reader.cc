// ContainerReader: verified header, then verified chunks in order.
#include <array>
#include <vector>

#include "container/byte_source.h"
#include "container/container_header.h"
#include "crypto/chunk_cipher.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::stages {

using container_detail::Fail;

struct ContainerReader::Impl {
  std::unique_ptr<container_detail::ByteSource> source;
  ContainerHeaderInfo header;
  SecretBytes payload_key;
  std::uint64_t offset = 0;      // where the next frame starts
  std::uint64_t next_index = 0;  // the chunk due there
  bool finished = false;
  std::optional<ContainerError> error;  // sticky: the first error ends the stream
  std::vector<std::byte> buffer;        // the current frame's ciphertext ‖ tag, then plaintext

  // Reads and verifies the header from `source`; the reader starts at the first frame.
  static ContainerResult<std::unique_ptr<Impl>> Create(
      ContainerResult<std::unique_ptr<container_detail::ByteSource>> source,
      const Credential& credential);
  ContainerResult<ContainerChunk> ReadFrame();
};

ContainerResult<std::unique_ptr<ContainerReader::Impl>> ContainerReader::Impl::Create(
    ContainerResult<std::unique_ptr<container_detail::ByteSource>> source,
    const Credential& credential) {
  if (!source) return tl::unexpected(source.error());
  auto header = container_detail::ReadHeader(**source);
  if (!header) return tl::unexpected(header.error());
  auto payload_key = container_detail::UnlockHeader(*header, credential);
  if (!payload_key) return tl::unexpected(payload_key.error());
  auto impl = std::make_unique<Impl>();
  impl->source = std::move(*source);
  impl->header = std::move(header->info);
  impl->payload_key = std::move(*payload_key);
  impl->offset = impl->header.header_size;
  return impl;
}

ContainerResult<ContainerReader> ContainerReader::Open(const std::filesystem::path& path,
                                                       const Credential& credential) {
  auto impl = Impl::Create(container_detail::OpenFileSource(path), credential);
  if (!impl) return tl::unexpected(impl.error());
  return ContainerReader(std::move(*impl));
}

ContainerResult<ContainerReader> ContainerReader::OpenBuffer(std::span<const std::byte> bytes,
                                                             const Credential& credential) {
  auto impl = Impl::Create(container_detail::MemorySource(bytes), credential);
  if (!impl) return tl::unexpected(impl.error());
  return ContainerReader(std::move(*impl));
}

ContainerReader::ContainerReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ContainerReader::ContainerReader(ContainerReader&&) noexcept = default;
ContainerReader& ContainerReader::operator=(ContainerReader&&) noexcept = default;
ContainerReader::~ContainerReader() = default;

const ContainerHeaderInfo& ContainerReader::header() const { return impl_->header; }
bool ContainerReader::finished() const { return impl_->finished; }

ContainerResult<std::optional<ContainerChunk>> ContainerReader::Next() {
  Impl& s = *impl_;
  if (s.error) return tl::unexpected(*s.error);
  if (s.finished) return std::optional<ContainerChunk>();
  auto chunk = s.ReadFrame();
  if (!chunk) {
    s.error = chunk.error();
    s.buffer.clear();
    return tl::unexpected(chunk.error());
  }
  return std::optional<ContainerChunk>(*chunk);
}

ContainerResult<ContainerChunk> ContainerReader::Impl::ReadFrame() {
  using namespace container_detail;
  const std::uint64_t at = offset;
  const std::uint64_t position = next_index;

  std::array<std::byte, kFrameHeaderSize> frame_header{};
  auto got = source->ReadAt(at, frame_header);
  if (!got) return tl::unexpected(got.error());
  if (*got == 0) {
    return Fail(ContainerErrc::kTruncated,
                position == 0 ? "the file ends after the header, before any chunk"
                              : "the file ends after chunk " + std::to_string(position - 1) +
                                    " without a final chunk",
                position, at);
  }
  if (*got < kFrameHeaderSize) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside a frame header", position, at);
  }
  const FrameHeader frame = DecodeFrameHeader(frame_header);
  if (frame.last > 1) {
    return Fail(ContainerErrc::kTamperedChunk,
                "invalid last-chunk flag " + std::to_string(frame.last), position, at);
  }
  if (frame.length > kMaxChunkPlaintext) {
    return Fail(ContainerErrc::kTamperedChunk,
                "frame length " + std::to_string(frame.length) + " above the 64 MiB cap", position,
                at);
  }
  const std::size_t sealed_size = std::size_t{frame.length} + kChunkTagSize;
  const std::uint64_t end = at + kFrameHeaderSize + sealed_size;
  if (source->size() < end) {
    return Fail(ContainerErrc::kTruncated,
                "the file ends inside this frame (or its length field is damaged)", position, at);
  }
  buffer.resize(sealed_size);
  got = source->ReadAt(at + kFrameHeaderSize, buffer);
  if (!got) return tl::unexpected(got.error());
  if (*got != sealed_size) {
    return Fail(ContainerErrc::kTruncated, "the file ends inside this frame", position, at);
  }
  auto authentic = OpenChunk(payload_key.span(), frame_header, buffer, buffer);
  if (!authentic) {
    auto failure = authentic.error();
    failure.chunk_index = position;
    failure.byte_offset = at;
    return tl::unexpected(std::move(failure));
  }
  if (!*authentic) {
    return Fail(ContainerErrc::kTamperedChunk, "authentication failed: the frame was modified",
                position, at);
  }
  // Authentic, so its index and flag are the writer's: only its place can be wrong.
  if (frame.index < position) {
    return Fail(ContainerErrc::kDuplicatedChunk,
                "chunk " + std::to_string(frame.index) + " appears again where chunk " +
                    std::to_string(position) + " is due",
                position, at);
  }
  if (frame.index > position) {
    return Fail(ContainerErrc::kReorderedChunk,
                "chunk " + std::to_string(frame.index) + " found where chunk " +
                    std::to_string(position) + " is due (chunks moved or removed)",
                position, at);
  }
  offset = end;
  ++next_index;
  if (frame.last == 1) {
    std::array<std::byte, 1> probe{};
    auto more = source->ReadAt(end, probe);
    if (!more) return tl::unexpected(more.error());
    if (*more != 0) {
      return Fail(ContainerErrc::kTrailingBytes, "bytes follow the final chunk", position, end);
    }
    finished = true;
  }
  return ContainerChunk{frame.index, frame.last == 1,
                        std::span<const std::byte>(buffer).first(frame.length)};
}

}  // namespace zcpipe::stages
