// Where a container is read from: a file (positional reads) or bytes in memory.
// Private to zcpipe::stages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "zcpipe/stages/container_error.h"

namespace zcpipe::stages::container_detail {

// Random-access read-only bytes. Thread-safety: one thread at a time.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The size when opened; used to bound allocations, not trusted as the end (the file may
  // change; short reads are what count).
  [[nodiscard]] virtual std::uint64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; fewer only at the end. Errors: kIo.
  [[nodiscard]] virtual ContainerResult<std::size_t> ReadAt(std::uint64_t offset,
                                                            std::span<std::byte> out) = 0;
};

// Opens `path` read-only. Errors: kIo.
[[nodiscard]] ContainerResult<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::filesystem::path& path);

// Borrows `bytes`. REQUIRES: `bytes` outlives the source.
[[nodiscard]] std::unique_ptr<ByteSource> MemorySource(std::span<const std::byte> bytes);

}  // namespace zcpipe::stages::container_detail
