// Encoding: the character encodings an input may be in, converted to UTF-8 as it is read
// (Chunker), and how offsets in the converted text map back to offsets in the input.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "zcpipe/stages/input_error.h"

namespace zcpipe::stages {

enum class Encoding : std::uint8_t {
  kUtf8,         // as is (a UTF-16 byte order mark at the start switches to kUtf16)
  kLatin1,       // ISO-8859-1: each byte is the code point of its value
  kWindows1252,  // Latin-1 with printable characters in 0x80-0x9F (five bytes undefined)
  kUtf16,        // byte order from the mark at the start, which the input must have
  kUtf16Le,
  kUtf16Be,
};

inline constexpr std::array kEncodings{Encoding::kUtf8,  Encoding::kLatin1,  Encoding::kWindows1252,
                                       Encoding::kUtf16, Encoding::kUtf16Le, Encoding::kUtf16Be};

// The name the command line takes, e.g. "windows-1252".
[[nodiscard]] const char* Name(Encoding encoding);

// The bytes of input in `encoding` that became `utf8`, which must be whole characters the
// Chunker converted from it (kUtf16: kUtf16Le or kUtf16Be). Every character of these encodings
// converts to exactly one code point, so the count follows from the UTF-8 text alone.
[[nodiscard]] std::uint64_t InputLength(Encoding encoding, std::span<const std::byte> utf8);

// Rows rejected in a chunk of converted text (`text`, which starts at input offset
// `first_byte`) carry the offsets a parser gives them: first_byte plus their offset in `text`.
// Maps those (every row with byte_offset >= first_byte) to offsets in the input; rows before
// the chunk (the Chunker's) are left alone. Does nothing for kUtf8. O(text + rows log rows).
void ToInputOffsets(Encoding encoding, std::span<const std::byte> text, std::uint64_t first_byte,
                    InputErrors& rows);

}  // namespace zcpipe::stages
