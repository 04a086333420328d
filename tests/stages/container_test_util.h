// Helpers shared by the .zcp container and key tests: a scratch directory, keys, whole-file
// I/O, and an independent reading of the byte format of docs/format.md (header size, frames,
// checksum recomputation) used to build tampered files.
#pragma once

#include <stdlib.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "zcpipe/stages/container.h"
#include "zcpipe/stages/key.h"

namespace zcpipe::stages::container_testing {

using Bytes = std::vector<std::byte>;

inline Bytes ToBytes(std::string_view text) {
  const auto view = std::as_bytes(std::span(text));
  return Bytes(view.begin(), view.end());
}

inline std::string ToString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A fresh directory under the system's temp directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zcpipe-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }
  // The names of the entries in the directory, sorted.
  [[nodiscard]] std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline Bytes ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Bytes bytes(chars.size());
  std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return std::byte(c); });
  return bytes;
}

inline void WriteBytes(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A deterministic test key: 32 bytes derived from `seed`.
inline FileKey TestKey(std::uint8_t seed) {
  Bytes bytes(kFileKeySize);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::byte>(seed * 31 + i * 7 + 1);
  }
  auto key = FileKey::FromBytes(bytes);
  if (!key) throw std::runtime_error(Describe(key.error()));
  return std::move(*key);
}

inline Credential RawCredential(std::uint8_t seed = 1) {
  return Credential::FromKey(TestKey(seed));
}

// Cheap scrypt for tests: N = 16.
inline constexpr ScryptParams kCheapScrypt{4, 8, 1};

inline Credential PassCredential(std::string_view passphrase = "correct horse battery staple") {
  return Credential::FromPassphrase(passphrase, kCheapScrypt);
}

// --- The byte format, read independently of the library (docs/format.md) -------------------

inline constexpr std::size_t kOffVersion = 8;
inline constexpr std::size_t kOffAlgorithm = 10;
inline constexpr std::size_t kOffKeySource = 11;
inline constexpr std::size_t kOffScryptLog2N = 12;
inline constexpr std::size_t kOffScryptR = 16;
inline constexpr std::size_t kOffScryptP = 20;
inline constexpr std::size_t kOffScryptSalt = 24;
inline constexpr std::size_t kOffFileSalt = 40;
inline constexpr std::size_t kOffSchemaLength = 72;
inline constexpr std::size_t kOffSchema = 76;

inline std::uint64_t LoadBig(std::span<const std::byte> bytes, std::size_t offset,
                             std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i)
    value = (value << 8) | std::to_integer<unsigned>(bytes[offset + i]);
  return value;
}

inline void StoreBig(std::span<std::byte> bytes, std::size_t offset, std::size_t size,
                     std::uint64_t value) {
  for (std::size_t i = size; i-- > 0;) {
    bytes[offset + i] = static_cast<std::byte>(value & 0xff);
    value >>= 8;
  }
}

inline std::size_t SchemaSize(std::span<const std::byte> file) {
  return LoadBig(file, kOffSchemaLength, 4);
}
inline std::size_t KeyCheckOffset(std::span<const std::byte> file) {
  return kOffSchema + SchemaSize(file);
}
inline std::size_t ChecksumOffset(std::span<const std::byte> file) {
  return KeyCheckOffset(file) + 16;
}
inline std::size_t MacOffset(std::span<const std::byte> file) { return ChecksumOffset(file) + 32; }
inline std::size_t HeaderSize(std::span<const std::byte> file) { return MacOffset(file) + 32; }

// Recomputes the (unkeyed) header checksum after a test edited the header: what a forger does.
inline void FixChecksum(Bytes& file) {
  const std::size_t at = ChecksumOffset(file);
  unsigned int size = 0;
  if (EVP_Digest(file.data(), at, reinterpret_cast<unsigned char*>(file.data() + at), &size,
                 EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
}

struct SplitFile {
  Bytes header;
  std::vector<Bytes> frames;
  std::vector<std::size_t> frame_offsets;

  [[nodiscard]] Bytes Join(const std::vector<std::size_t>& order) const {
    Bytes out = header;
    for (std::size_t i : order) out.insert(out.end(), frames[i].begin(), frames[i].end());
    return out;
  }
};

// Splits a well-formed container into its header and frames by their length fields.
inline SplitFile Split(std::span<const std::byte> file) {
  SplitFile split;
  const std::size_t header_size = HeaderSize(file);
  split.header.assign(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(header_size));
  std::size_t at = header_size;
  while (at < file.size()) {
    const std::size_t size = kChunkOverhead + LoadBig(file, at + 9, 4);
    if (at + size > file.size()) throw std::runtime_error("not a well-formed container");
    split.frame_offsets.push_back(at);
    split.frames.emplace_back(file.begin() + static_cast<std::ptrdiff_t>(at),
                              file.begin() + static_cast<std::ptrdiff_t>(at + size));
    at += size;
  }
  return split;
}

// Reads every chunk of an in-memory container; the first error if there is one.
inline ContainerResult<std::vector<std::string>> ReadAll(std::span<const std::byte> file,
                                                         const Credential& credential) {
  auto reader = ContainerReader::OpenBuffer(file, credential);
  if (!reader) return tl::unexpected(reader.error());
  std::vector<std::string> chunks;
  for (;;) {
    auto chunk = reader->Next();
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) return chunks;
    chunks.push_back(ToString((*chunk)->plaintext));
  }
}

// Writes `chunks` as a container (the last one flagged last) and commits it.
inline void WriteContainer(const std::filesystem::path& path, const Credential& credential,
                           const std::vector<std::string>& chunks,
                           std::string schema = "id:int64,name:string") {
  auto writer = ContainerWriter::Create(path, credential, {.schema = std::move(schema)});
  if (!writer) throw std::runtime_error(Describe(writer.error()));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto written = writer->Write(ToBytes(chunks[i]), i + 1 == chunks.size());
    if (!written) throw std::runtime_error(Describe(written.error()));
  }
  if (auto committed = writer->Commit(); !committed) {
    throw std::runtime_error(Describe(committed.error()));
  }
}

// Success when `result` failed with `errc`; otherwise says what happened instead.
template <class Result>
::testing::AssertionResult FailedWith(const Result& result, ContainerErrc errc) {
  if (result) return ::testing::AssertionFailure() << "succeeded, expected " << Name(errc);
  if (result.error().code != errc) {
    return ::testing::AssertionFailure()
           << "expected " << Name(errc) << ", got " << Describe(result.error());
  }
  return ::testing::AssertionSuccess();
}

}  // namespace zcpipe::stages::container_testing

// Asserts that `result` (a ContainerResult) failed with `errc`; more context can be streamed.
#define ASSERT_ERRC(result, errc) \
  ASSERT_TRUE(::zcpipe::stages::container_testing::FailedWith((result), (errc)))
