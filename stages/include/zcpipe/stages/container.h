// The .zcp container: an encrypted file of independently sealed chunks (STREAM construction
// over AES-256-GCM, in the spirit of age and Tink's streaming AEAD).
//
//   header | frame 0 | frame 1 | ... | frame n (flagged last)
//
// The header names the algorithm and key source, carries salts, scrypt parameters and the
// caller's schema string, and is authenticated (key check value, checksum, HMAC). Each frame is
// one chunk sealed under the file's payload key with nonce = 11-byte big-endian chunk index ‖
// last-chunk flag, so chunks can be sealed on many threads at once and a reader detects
// reordering, duplication, truncation and trailing bytes. Byte layout, key derivations and the
// meaning of each rejection: docs/format.md.
//
// Writing: ContainerWriter::Create → sealer().Seal(...) on any threads → Append(frame) in index
// order → Commit(). Reading: ContainerReader::Open → Next() until the last chunk, or
// DecryptFile() for a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "zcpipe/stages/container_error.h"
#include "zcpipe/stages/key.h"

namespace zcpipe::stages {

inline constexpr std::uint16_t kZcpVersion = 1;
inline constexpr std::size_t kFrameHeaderSize = 13;  // chunk index (8), last flag (1), length (4)
inline constexpr std::size_t kChunkTagSize = 16;     // AES-GCM tag
// Bytes a sealed frame adds to its plaintext: size output buffers with plaintext + this.
inline constexpr std::size_t kChunkOverhead = kFrameHeaderSize + kChunkTagSize;
inline constexpr std::size_t kMaxChunkPlaintext = std::size_t{64} << 20;  // per chunk
inline constexpr std::size_t kMaxSchemaSize = std::size_t{1} << 20;       // schema string, bytes
static_assert(kChunkOverhead == 29);

enum class ContainerAlgorithm : std::uint8_t {
  kAes256Gcm = 1,  // AES-256-GCM chunks, HKDF-SHA-256 subkeys, HMAC-SHA-256 header MAC
};

// The header's non-secret fields: what `zcpipe inspect` shows, readable without a key.
struct ContainerHeaderInfo {
  std::uint16_t version = kZcpVersion;
  ContainerAlgorithm algorithm = ContainerAlgorithm::kAes256Gcm;
  KeySource key_source = KeySource::kRawKey;
  std::optional<ScryptParams> scrypt;  // present for KeySource::kPassphrase
  std::string schema;                  // the caller's opaque UTF-8 string
  std::uint64_t header_size = 0;       // bytes; the first frame starts here
};

// What Inspect finds by walking the frames' clear headers.
struct ContainerInfo {
  ContainerHeaderInfo header;
  std::uint64_t chunk_count = 0;      // frames, the final one included
  std::uint64_t plaintext_bytes = 0;  // sum of the frames' lengths
  std::uint64_t file_size = 0;
};

// Reads a container's header and walks its frames without a key. Checks the structure only:
// magic, version, caps, header checksum, frame lengths, a last-flagged final frame, no trailing
// bytes. NOTHING HERE IS AUTHENTICATED — a forger can make Inspect report anything; only
// ContainerReader / DecryptFile verify. Errors: kIo and the header / kTruncated /
// kTrailingBytes / kTamperedChunk (invalid frame header) codes of docs/format.md.
[[nodiscard]] ContainerResult<ContainerInfo> Inspect(const std::filesystem::path& path);

// Seals chunks under one container's payload key.
//
// Thread-safety: Seal is const and may be called from any number of threads at once; each thread
// uses its own EVP_CIPHER_CTX (thread_local, reused across calls). Ownership: obtained from a
// ContainerWriter by reference, it lives as long as the writer.
class ChunkSealer {
 public:
  // Writes the sealed frame of chunk `index` into `out` and returns its size
  // (plaintext.size() + kChunkOverhead).
  // REQUIRES: plaintext.size() ≤ kMaxChunkPlaintext; out.size() ≥ plaintext.size() +
  //   kChunkOverhead; `out` does not overlap `plaintext`, except exactly in place:
  //   out.data() + kFrameHeaderSize == plaintext.data(). Else kInvalidArgument.
  // The container is valid only if indices run 0, 1, 2, ... and exactly the highest one is
  // sealed with last = true; the writer checks that order.
  // Errors: kInvalidArgument, kCrypto.
  [[nodiscard]] ContainerResult<std::size_t> Seal(std::uint64_t index, bool last,
                                                  std::span<const std::byte> plaintext,
                                                  std::span<std::byte> out) const;

  // Checks that `frame` is a whole frame this key sealed as chunk `index`, not the last one:
  // its clear header says so and it authenticates; returns its plaintext, which stays valid
  // until the calling thread's next Check. For frames sealed elsewhere (a worker process)
  // before they are appended: pass a private copy, as what is checked must be what is written.
  // Thread-safe. Errors: kTamperedChunk (with why), kCrypto.
  [[nodiscard]] ContainerResult<std::span<const std::byte>> Check(
      std::uint64_t index, std::span<const std::byte> frame) const;

  ChunkSealer(ChunkSealer&&) noexcept = default;
  ChunkSealer& operator=(ChunkSealer&&) noexcept = default;

  // For sealing in a worker process (isolated stages): the payload key, to be sent over a
  // private channel only, and a sealer made from it there.
  [[nodiscard]] std::span<const std::byte> payload_key() const { return payload_key_.span(); }
  [[nodiscard]] static ChunkSealer FromPayloadKey(std::span<const std::byte> key) {
    return ChunkSealer(SecretBytes::CopyOf(key));
  }

 private:
  friend class ContainerWriter;
  explicit ChunkSealer(SecretBytes payload_key) : payload_key_(std::move(payload_key)) {}
  SecretBytes payload_key_;
};

// Whether `a` and `b` name one file: the same existing file however reached (symbolic or hard
// links, ".."), or the same path once resolved as far as it exists. What zcpipe writes must not
// be what it reads: an import refuses an output that is its input, an export or a decryption
// one that is its container.
[[nodiscard]] bool SameFile(const std::filesystem::path& a, const std::filesystem::path& b);

struct ContainerWriterOptions {
  std::string schema = {};  // opaque UTF-8, at most kMaxSchemaSize bytes
  // Whether Commit may replace an existing file at the destination. When false, Commit renames
  // with RENAME_NOREPLACE and fails with kAlreadyExists, leaving the existing file alone.
  bool replace_existing = false;
};

// Writes a container: the header at Create, then frames in index order, to a temporary file in
// the destination's directory (mode 0600); Commit fsyncs it, renames it into place and fsyncs
// the directory. Destroying a writer that was not committed (or whose Commit failed) removes
// the temporary file, so no partial container ever appears under the final name.
//
// Ownership: owns the temporary file's descriptor and the payload key. Move-only; a moved-from
// writer may only be destroyed or assigned to. The sealer stays put when the writer moves.
// Thread-safety: sealer() is safe from many threads; Append, Write and Commit are a serial sink
// (one thread at a time, e.g. after a sequencer).
class ContainerWriter {
 public:
  // Derives the keys (scrypt for a passphrase — this is the slow part), creates the temporary
  // file and writes the header. Errors: kInvalidArgument (schema too long or not UTF-8, empty
  // passphrase, scrypt parameter 0), kParamsAboveCaps, kAlreadyExists (destination exists and
  // !replace_existing), kIo, kCrypto.
  [[nodiscard]] static ContainerResult<ContainerWriter> Create(
      const std::filesystem::path& path, const Credential& credential,
      const ContainerWriterOptions& options);

  // Continues a container whose writer died before Commit: reopens its temporary file
  // `temp_path`, verifies the header with `credential` (and that it carries options.schema),
  // keeps its first `bytes` bytes — `frames` whole frames after the header, as recorded in a
  // journal after a Sync() — and appends after them. Errors: those of ContainerReader::Open
  // for the header, kMalformedHeader (another schema), kAlreadyExists, kIo.
  [[nodiscard]] static ContainerResult<ContainerWriter> Resume(
      const std::filesystem::path& path, const std::filesystem::path& temp_path,
      const Credential& credential, const ContainerWriterOptions& options, std::uint64_t frames,
      std::uint64_t bytes);

  ContainerWriter(ContainerWriter&&) noexcept;
  ContainerWriter& operator=(ContainerWriter&&) noexcept;
  ~ContainerWriter();

  [[nodiscard]] const ChunkSealer& sealer() const;

  // Appends a frame produced by sealer().Seal. REQUIRES: its index is chunks_appended(), no
  // frame flagged last was appended before, and frame.size() matches its length field; else
  // kInvalidArgument (nothing written). Errors: kInvalidArgument, kIo.
  [[nodiscard]] ContainerStatus Append(std::span<const std::byte> frame);

  // Seals `plaintext` as the next chunk and appends it: the serial convenience.
  [[nodiscard]] ContainerStatus Write(std::span<const std::byte> plaintext, bool last);

  // REQUIRES: the last-flagged frame was appended (else kInvalidArgument).
  // fsync, rename into place, fsync the directory. On failure nothing is left under the final
  // name (a rename that succeeded is undone if the directory fsync fails).
  // Errors: kInvalidArgument, kAlreadyExists, kIo.
  [[nodiscard]] ContainerStatus Commit();

  // Makes the frames appended so far durable in the temporary file (fsync), e.g. before a
  // journal records them. Errors: kIo.
  [[nodiscard]] ContainerStatus Sync();

  // Closes the temporary file and leaves it in place for Resume (at a point recorded after a
  // Sync), instead of removing it when the writer is destroyed. REQUIRES: not committed.
  void Keep();

  [[nodiscard]] std::uint64_t chunks_appended() const;
  [[nodiscard]] std::uint64_t bytes_written() const;  // header + frames so far
  [[nodiscard]] const std::filesystem::path& temp_path() const;

 private:
  struct Impl;
  explicit ContainerWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One verified chunk. `plaintext` points into the reader and stays valid until the next call
// to Next() or the reader's destruction.
struct ContainerChunk {
  std::uint64_t index = 0;
  bool last = false;
  std::span<const std::byte> plaintext;
};

// Reads a container: Open verifies the whole header (key check, checksum, MAC); Next() yields
// chunks in order, each only after its tag verified. When Next() yields the chunk flagged last,
// the whole file has been verified (including that nothing follows it); the call after returns
// std::nullopt. The first error ends the stream: later calls return the same error.
//
// Ownership: owns its file descriptor (Open) or borrows the caller's bytes (OpenBuffer), and the
// payload key. Move-only; a moved-from reader may only be destroyed or assigned to.
// Thread-safety: one thread at a time. The file must not change while it is read.
class ContainerReader {
 public:
  // Errors: kIo, and every header code of docs/format.md (kNotZcp, kUnsupportedVersion, ...,
  // kWrongKey, kTamperedHeader, kKeySourceMismatch, kTruncated).
  [[nodiscard]] static ContainerResult<ContainerReader> Open(const std::filesystem::path& path,
                                                             const Credential& credential);
  // Reads a container held in memory. REQUIRES: `bytes` outlives the reader.
  [[nodiscard]] static ContainerResult<ContainerReader> OpenBuffer(std::span<const std::byte> bytes,
                                                                   const Credential& credential);

  ContainerReader(ContainerReader&&) noexcept;
  ContainerReader& operator=(ContainerReader&&) noexcept;
  ~ContainerReader();

  [[nodiscard]] const ContainerHeaderInfo& header() const;

  // The next verified chunk, or std::nullopt once the final chunk was returned.
  // Errors: kTamperedChunk, kReorderedChunk, kDuplicatedChunk, kTruncated, kTrailingBytes, kIo,
  // kCrypto — with chunk_index and byte_offset set.
  [[nodiscard]] ContainerResult<std::optional<ContainerChunk>> Next();

  [[nodiscard]] bool finished() const;  // the final chunk was verified and returned

 private:
  struct Impl;
  explicit ContainerReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct DecryptOptions {
  bool replace_existing = false;  // as ContainerWriterOptions::replace_existing
};

// Decrypts the container `in` into the plain file `out`: the plaintext goes to a temporary file
// (mode 0600) in out's directory, which is fsynced, renamed to `out` and the directory fsynced
// only after every chunk and the end of the file verified. On any failure no file is left under
// `out` and the temporary file is removed. Returns what was read (as Inspect, but verified).
// Errors: those of ContainerReader::Open and Next, kAlreadyExists, kIo, kInvalidArgument
// (`out` is `in`: SameFile).
[[nodiscard]] ContainerResult<ContainerInfo> DecryptFile(const std::filesystem::path& in,
                                                         const std::filesystem::path& out,
                                                         const Credential& credential,
                                                         const DecryptOptions& options = {});

}  // namespace zcpipe::stages
