#include "decoder.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace zcpipe::stages::detail {
namespace {

const iconv_t kNoDescriptor = reinterpret_cast<iconv_t>(-1);  // NOLINT: iconv's own failure value

const char* IconvName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kLatin1:
      return "ISO-8859-1";
    case Encoding::kWindows1252:
      return "WINDOWS-1252";
    case Encoding::kUtf16Le:
      return "UTF-16LE";
    case Encoding::kUtf16Be:
      return "UTF-16BE";
    case Encoding::kUtf8:
    case Encoding::kUtf16:
      break;
  }
  return nullptr;
}

std::string Hex(unsigned value, int digits) {
  std::array<char, 8> text{};
  (void)std::snprintf(text.data(), text.size(), "%0*X", digits, value);
  return "0x" + std::string(text.data());
}

}  // namespace

StageResult<Decoder> Decoder::Open(Encoding encoding) {
  const char* name = IconvName(encoding);
  if (name == nullptr) {
    return StageFail(StageErrc::kInvalidArgument,
                     std::string("no conversion from ") + stages::Name(encoding));
  }
  const iconv_t descriptor = ::iconv_open("UTF-8", name);
  if (descriptor == kNoDescriptor) {
    return StageFail(StageErrc::kIo, std::string("iconv cannot convert ") + name + " to UTF-8");
  }
  return Decoder(descriptor, encoding);
}

Decoder::Decoder(Decoder&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, kNoDescriptor)), encoding_(other.encoding_) {}

Decoder::~Decoder() {
  if (descriptor_ != kNoDescriptor) ::iconv_close(descriptor_);
}

Decoder::Step Decoder::Convert(std::span<const std::byte> in, std::span<std::byte> out) {
  // iconv takes non-const input pointers but does not write through them.
  auto* in_at = const_cast<char*>(reinterpret_cast<const char*>(in.data()));  // NOLINT
  auto* out_at = reinterpret_cast<char*>(out.data());
  std::size_t in_left = in.size(), out_left = out.size();
  const std::size_t result = ::iconv(descriptor_, &in_at, &in_left, &out_at, &out_left);
  Step step{in.size() - in_left, out.size() - out_left, Stop::kDone};
  if (result == static_cast<std::size_t>(-1)) {
    step.stop = errno == E2BIG ? Stop::kFull : errno == EINVAL ? Stop::kIncomplete : Stop::kInvalid;
  }
  return step;
}

std::string Decoder::Invalid(std::span<const std::byte> at) const {
  const auto byte = [&at](std::size_t i) { return std::to_integer<unsigned>(at[i]); };
  if (encoding_ != Encoding::kUtf16Le && encoding_ != Encoding::kUtf16Be) {
    return at.empty()
               ? std::string("invalid byte")
               : "byte " + Hex(byte(0), 2) + " is no " + stages::Name(encoding_) + " character";
  }
  if (at.size() < 2) return "invalid UTF-16";
  const unsigned unit =
      encoding_ == Encoding::kUtf16Le ? byte(0) | byte(1) << 8U : byte(0) << 8U | byte(1);
  if (unit >= 0xD800 && unit < 0xDC00) {
    return "high surrogate " + Hex(unit, 4) + " without a low surrogate after it";
  }
  if (unit >= 0xDC00 && unit < 0xE000) {
    return "low surrogate " + Hex(unit, 4) + " without a high surrogate before it";
  }
  return "unit " + Hex(unit, 4) + " is no UTF-16 character";
}

}  // namespace zcpipe::stages::detail
