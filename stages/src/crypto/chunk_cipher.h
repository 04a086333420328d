// Chunk frames: their clear header, their nonce, and opening (decrypt + verify) one.
// ChunkSealer::Seal (container.h) is the sealing half. Private to zcpipe::stages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "container/container_format.h"

namespace zcpipe::stages::container_detail {

struct FrameHeader {
  std::uint64_t index = 0;
  std::uint8_t last = 0;  // 0 or 1 in a valid frame; any byte as read
  std::uint32_t length = 0;
};

void EncodeFrameHeader(const FrameHeader& header, std::span<std::byte, kFrameHeaderSize> out);
[[nodiscard]] FrameHeader DecodeFrameHeader(std::span<const std::byte, kFrameHeaderSize> bytes);

// 00 00 00 ‖ index (8 bytes, big-endian) ‖ last (0x00 or 0x01).
[[nodiscard]] std::array<std::byte, kNonceSize> ChunkNonce(std::uint64_t index, bool last);

// Decrypts and verifies one frame. `frame_header` is the frame's 13 clear bytes (the AAD; its
// index and last flag make the nonce), `sealed` is ciphertext ‖ tag (length + 16 bytes).
// `out` receives the plaintext (length bytes); it may be exactly `sealed` (in place).
// Returns false when authentication fails — then `out` holds garbage that must not be used.
// REQUIRES: the header's last flag is 0 or 1, length ≤ kMaxChunkPlaintext, sizes as stated.
// Errors: kCrypto (OpenSSL failed for another reason).
// Thread-safety: safe from any number of threads (thread_local EVP_CIPHER_CTX).
[[nodiscard]] ContainerResult<bool> OpenChunk(
    std::span<const std::byte> payload_key,
    std::span<const std::byte, kFrameHeaderSize> frame_header, std::span<const std::byte> sealed,
    std::span<std::byte> out);

}  // namespace zcpipe::stages::container_detail
