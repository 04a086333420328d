// libFuzzer target: arbitrary bytes as a .zcp container, read with a fixed raw key and drained.
// Must never crash, leak or read out of bounds; every input ends in a value or a ContainerError.
//
// A raw-key credential keeps scrypt out of the loop: a passphrase header is rejected with
// kKeySourceMismatch before any key derivation, so a fuzzed scrypt cost cannot stall the fuzzer.
// Seed corpus: any container written with the key below (bytes 0x00..0x1f).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "zcpipe/stages/container.h"

namespace {

const zcpipe::stages::Credential& FuzzCredential() {
  static const zcpipe::stages::Credential credential = [] {
    std::byte bytes[zcpipe::stages::kFileKeySize];
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<std::byte>(i);
    auto key = zcpipe::stages::FileKey::FromBytes(bytes);
    if (!key) std::abort();
    return zcpipe::stages::Credential::FromKey(std::move(*key));
  }();
  return credential;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto reader = zcpipe::stages::ContainerReader::OpenBuffer(bytes, FuzzCredential());
  if (!reader) return 0;
  std::size_t chunks = 0;
  for (;;) {
    auto chunk = reader->Next();
    if (!chunk || !chunk->has_value()) break;
    // Touch every plaintext byte so that ASan checks the span.
    volatile std::byte sink{};
    for (std::byte b : (*chunk)->plaintext) sink = sink ^ b;
    ++chunks;
  }
  (void)chunks;
  return 0;
}
