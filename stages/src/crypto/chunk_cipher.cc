#include "crypto/chunk_cipher.h"

#include <openssl/evp.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "zcpipe/stages/container.h"

namespace zcpipe::stages {
namespace container_detail {
namespace {

// One encrypting and one decrypting EVP_CIPHER_CTX per thread, set to AES-256-GCM once and
// reused for every chunk: each call re-initialises only key and IV. Nothing secret selects a
// context. The key schedule stays in the context between calls and is wiped by
// EVP_CIPHER_CTX_free when the thread ends.
class ThreadCipher {
 public:
  ThreadCipher() = default;
  ThreadCipher(const ThreadCipher&) = delete;
  ThreadCipher& operator=(const ThreadCipher&) = delete;
  ~ThreadCipher() { EVP_CIPHER_CTX_free(ctx_); }

  // The context, initialised for AES-256-GCM in the given direction; null on failure.
  EVP_CIPHER_CTX* Get(bool encrypt) {
    if (ctx_ == nullptr) {
      ctx_ = EVP_CIPHER_CTX_new();
      if (ctx_ == nullptr) return nullptr;
      if (EVP_CipherInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) !=
          1) {
        EVP_CIPHER_CTX_free(ctx_);
        ctx_ = nullptr;
      }
    }
    return ctx_;
  }

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

thread_local ThreadCipher seal_cipher;
thread_local ThreadCipher open_cipher;

const unsigned char* U(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

bool Overlap(const std::byte* a, std::size_t a_size, const std::byte* b, std::size_t b_size) {
  if (a_size == 0 || b_size == 0) return false;
  std::less<const std::byte*> before;
  return before(a, b + b_size) && before(b, a + a_size);
}

}  // namespace

void EncodeFrameHeader(const FrameHeader& header, std::span<std::byte, kFrameHeaderSize> out) {
  StoreBig<std::uint64_t>(out, kFrameOffIndex, header.index);
  out[kFrameOffLast] = static_cast<std::byte>(header.last);
  StoreBig<std::uint32_t>(out, kFrameOffLength, header.length);
}

FrameHeader DecodeFrameHeader(std::span<const std::byte, kFrameHeaderSize> bytes) {
  return FrameHeader{LoadBig<std::uint64_t>(bytes, kFrameOffIndex),
                     std::to_integer<std::uint8_t>(bytes[kFrameOffLast]),
                     LoadBig<std::uint32_t>(bytes, kFrameOffLength)};
}

std::array<std::byte, kNonceSize> ChunkNonce(std::uint64_t index, bool last) {
  std::array<std::byte, kNonceSize> nonce{};  // the counter's top 3 bytes stay zero
  StoreBig<std::uint64_t>(nonce, kNonceCounterSize - sizeof(std::uint64_t), index);
  nonce[kNonceCounterSize] = last ? std::byte{1} : std::byte{0};
  return nonce;
}

ContainerResult<bool> OpenChunk(std::span<const std::byte> payload_key,
                                std::span<const std::byte, kFrameHeaderSize> frame_header,
                                std::span<const std::byte> sealed, std::span<std::byte> out) {
  const FrameHeader header = DecodeFrameHeader(frame_header);
  const std::size_t length = header.length;
  EVP_CIPHER_CTX* ctx = open_cipher.Get(/*encrypt=*/false);
  if (ctx == nullptr) return Fail(ContainerErrc::kCrypto, "cannot create an AES-256-GCM context");
  const auto nonce = ChunkNonce(header.index, header.last != 0);
  std::array<std::byte, kChunkTagSize> tag{};
  std::memcpy(tag.data(), sealed.data() + length, tag.size());
  int n = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, U(payload_key.data()), U(nonce.data())) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &n, U(frame_header.data()),
                        static_cast<int>(frame_header.size())) != 1 ||
      (length > 0 && EVP_DecryptUpdate(ctx, U(out.data()), &n, U(sealed.data()),
                                       static_cast<int>(length)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) !=
          1) {
    return Fail(ContainerErrc::kCrypto, "AES-256-GCM decryption failed");
  }
  std::byte final_block[16];
  return EVP_DecryptFinal_ex(ctx, U(final_block), &n) == 1;
}

}  // namespace container_detail

ContainerResult<std::size_t> ChunkSealer::Seal(std::uint64_t index, bool last,
                                               std::span<const std::byte> plaintext,
                                               std::span<std::byte> out) const {
  using namespace container_detail;
  const std::size_t frame_size = plaintext.size() + kChunkOverhead;
  if (plaintext.size() > kMaxChunkPlaintext) {
    return Fail(ContainerErrc::kInvalidArgument,
                "chunk of " + std::to_string(plaintext.size()) + " bytes exceeds the 64 MiB cap",
                index);
  }
  if (out.size() < frame_size) {
    return Fail(ContainerErrc::kInvalidArgument,
                "output buffer of " + std::to_string(out.size()) + " bytes, frame needs " +
                    std::to_string(frame_size),
                index);
  }
  const bool in_place = out.data() + kFrameHeaderSize == plaintext.data();
  if (!in_place && Overlap(out.data(), frame_size, plaintext.data(), plaintext.size())) {
    return Fail(ContainerErrc::kInvalidArgument, "output overlaps the plaintext", index);
  }
  if (payload_key_.size() != kKeyBytes) {
    return Fail(ContainerErrc::kInvalidArgument, "sealer has no key (moved from)", index);
  }

  const auto frame_header = out.first<kFrameHeaderSize>();
  EncodeFrameHeader({index, static_cast<std::uint8_t>(last ? 1 : 0),
                     static_cast<std::uint32_t>(plaintext.size())},
                    frame_header);
  EVP_CIPHER_CTX* ctx = seal_cipher.Get(/*encrypt=*/true);
  if (ctx == nullptr) return Fail(ContainerErrc::kCrypto, "cannot create an AES-256-GCM context");
  const auto nonce = ChunkNonce(index, last);
  std::byte* ciphertext = out.data() + kFrameHeaderSize;
  std::byte* tag = ciphertext + plaintext.size();
  std::byte final_block[16];
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, U(payload_key_.span().data()), U(nonce.data())) !=
          1 ||
      EVP_EncryptUpdate(ctx, nullptr, &n, U(frame_header.data()),
                        static_cast<int>(frame_header.size())) != 1 ||
      (!plaintext.empty() && EVP_EncryptUpdate(ctx, U(ciphertext), &n, U(plaintext.data()),
                                               static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, U(final_block), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kChunkTagSize), tag) != 1) {
    return Fail(ContainerErrc::kCrypto, "AES-256-GCM encryption failed", index);
  }
  return frame_size;
}

ContainerResult<std::span<const std::byte>> ChunkSealer::Check(
    std::uint64_t index, std::span<const std::byte> frame) const {
  using namespace container_detail;
  if (frame.size() < kChunkOverhead || frame.size() - kChunkOverhead > kMaxChunkPlaintext) {
    return Fail(ContainerErrc::kTamperedChunk,
                "not a frame: " + std::to_string(frame.size()) + " bytes", index);
  }
  const auto header_bytes = frame.first<kFrameHeaderSize>();
  const FrameHeader header = DecodeFrameHeader(header_bytes);
  if (header.index != index || header.last != 0 ||
      std::size_t{header.length} + kChunkOverhead != frame.size()) {
    return Fail(ContainerErrc::kTamperedChunk,
                "the frame's header names chunk " + std::to_string(header.index) + " of " +
                    std::to_string(header.length) + " bytes" + (header.last != 0 ? ", last" : ""),
                index);
  }
  thread_local std::vector<std::byte> plaintext;
  plaintext.resize(header.length);
  auto authentic =
      OpenChunk(payload_key_.span(), header_bytes, frame.subspan(kFrameHeaderSize), plaintext);
  if (!authentic) return tl::unexpected(authentic.error());
  if (!*authentic) {
    return Fail(ContainerErrc::kTamperedChunk, "authentication failed: the frame was modified",
                index);
  }
  return std::span<const std::byte>(plaintext);
}

}  // namespace zcpipe::stages
