#include "zcpipe/stages/encoding.h"

#include <algorithm>
#include <vector>

namespace zcpipe::stages {
namespace {

bool IsContinuation(std::byte byte) { return (byte & std::byte{0xC0}) == std::byte{0x80}; }

}  // namespace

const char* Name(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8:
      return "utf-8";
    case Encoding::kLatin1:
      return "latin1";
    case Encoding::kWindows1252:
      return "windows-1252";
    case Encoding::kUtf16:
      return "utf-16";
    case Encoding::kUtf16Le:
      return "utf-16le";
    case Encoding::kUtf16Be:
      return "utf-16be";
  }
  return "unknown";
}

std::uint64_t InputLength(Encoding encoding, std::span<const std::byte> utf8) {
  if (encoding == Encoding::kUtf8) return utf8.size();
  // One input character per code point: count the bytes that start one.
  std::uint64_t characters = 0, astral = 0;
  for (const std::byte byte : utf8) {
    characters += IsContinuation(byte) ? 0 : 1;
    astral += byte >= std::byte{0xF0} ? 1 : 0;  // a 4-byte sequence: a surrogate pair in UTF-16
  }
  return encoding == Encoding::kLatin1 || encoding == Encoding::kWindows1252
             ? characters
             : 2 * (characters + astral);
}

void ToInputOffsets(Encoding encoding, std::span<const std::byte> text, std::uint64_t first_byte,
                    InputErrors& rows) {
  if (encoding == Encoding::kUtf8) return;
  std::vector<InputError*> inside;
  for (auto& row : rows) {
    if (row.byte_offset >= first_byte) inside.push_back(&row);
  }
  std::ranges::stable_sort(inside, {}, &InputError::byte_offset);
  std::uint64_t done = 0;  // text[0, done) is `input` bytes of input
  std::uint64_t input = 0;
  for (InputError* row : inside) {
    const std::uint64_t at = std::min<std::uint64_t>(row->byte_offset - first_byte, text.size());
    input += InputLength(encoding, text.subspan(done, at - done));
    done = at;
    row->byte_offset = first_byte + input;
  }
}

}  // namespace zcpipe::stages
