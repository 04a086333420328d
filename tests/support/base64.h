// Test helper: standard base64 (RFC 4648, padded) decoded with OpenSSL, for the rejects file's
// "<field>_base64" fields.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace zcpipe::testing {

// The bytes `text` encodes; empty (and not equal to what was encoded) when it is not base64.
inline std::string Base64Decode(std::string_view text) {
  std::string bytes(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  bytes.resize(n < 0 ? 0 : static_cast<std::size_t>(n) - padding);
  return bytes;
}

}  // namespace zcpipe::testing
