// Inspect: a container's header and frame count, without a key (nothing authenticated).
#include <array>

#include "container/byte_source.h"
#include "container/container_header.h"
#include "crypto/chunk_cipher.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::stages {

ContainerResult<ContainerInfo> Inspect(const std::filesystem::path& path) {
  using namespace container_detail;
  auto source = OpenFileSource(path);
  if (!source) return tl::unexpected(source.error());
  auto header = ReadHeader(**source);
  if (!header) return tl::unexpected(header.error());

  ContainerInfo info;
  info.header = std::move(header->info);
  info.file_size = (*source)->size();
  std::uint64_t at = info.header.header_size;
  for (;;) {
    const std::uint64_t position = info.chunk_count;
    std::array<std::byte, kFrameHeaderSize> bytes{};
    auto got = (*source)->ReadAt(at, bytes);
    if (!got) return tl::unexpected(got.error());
    if (*got < kFrameHeaderSize) {
      return Fail(ContainerErrc::kTruncated, "the file ends before a final chunk", position, at);
    }
    const FrameHeader frame = DecodeFrameHeader(bytes);
    if (frame.last > 1 || frame.length > kMaxChunkPlaintext) {
      return Fail(ContainerErrc::kTamperedChunk, "invalid frame header", position, at);
    }
    const std::uint64_t end = at + kFrameHeaderSize + frame.length + kChunkTagSize;
    if (end > info.file_size) {
      return Fail(ContainerErrc::kTruncated, "the file ends inside a frame", position, at);
    }
    ++info.chunk_count;
    info.plaintext_bytes += frame.length;
    at = end;
    if (frame.last == 1) break;
  }
  if (at != info.file_size) {
    return Fail(ContainerErrc::kTrailingBytes, "bytes follow the final chunk", info.chunk_count - 1,
                at);
  }
  return info;
}

}  // namespace zcpipe::stages
