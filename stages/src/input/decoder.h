// Decoder: converts text in one of the input encodings to UTF-8 with iconv(3), piece by piece.
#pragma once

#include <iconv.h>

#include <cstddef>
#include <span>
#include <string>

#include "zcpipe/stages/encoding.h"
#include "zcpipe/stages/error.h"

namespace zcpipe::stages::detail {

// One conversion from `encoding` to UTF-8 (iconv, no tables of our own). Convert takes the
// input as it is read, in pieces: a character split across two pieces is left unconsumed at the
// end of the first (Stop::kIncomplete), to be passed again at the start of the next.
// Owns its iconv descriptor. Thread-compatible.
class Decoder {
 public:
  // REQUIRES: `encoding` is kLatin1, kWindows1252, kUtf16Le or kUtf16Be. Errors: kIo (iconv
  // cannot convert it on this system).
  [[nodiscard]] static StageResult<Decoder> Open(Encoding encoding);
  Decoder(Decoder&& other) noexcept;
  Decoder& operator=(Decoder&&) = delete;
  ~Decoder();

  enum class Stop {
    kDone,        // consumed all of `in`
    kFull,        // `out` has no room for the next character
    kIncomplete,  // `in` ends inside a character: pass the rest again with what follows
    kInvalid,     // in[consumed] starts bytes that are no character: see Invalid
  };
  struct Step {
    std::size_t consumed = 0;  // bytes of `in`
    std::size_t produced = 0;  // bytes of UTF-8 written to the start of `out`
    Stop stop = Stop::kDone;
  };
  [[nodiscard]] Step Convert(std::span<const std::byte> in, std::span<std::byte> out);

  // Why the bytes at `at` (where Convert stopped with kInvalid) are not a character, e.g.
  // "byte 0x81 is no windows-1252 character".
  [[nodiscard]] std::string Invalid(std::span<const std::byte> at) const;

  [[nodiscard]] Encoding encoding() const { return encoding_; }

 private:
  Decoder(iconv_t descriptor, Encoding encoding) : descriptor_(descriptor), encoding_(encoding) {}

  iconv_t descriptor_;
  Encoding encoding_;
};

}  // namespace zcpipe::stages::detail
