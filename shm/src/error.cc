#include "zcpipe/shm/error.h"

#include <system_error>

namespace zcpipe::shm {

const char* Name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kSystem:
      return "system error";
    case Errc::kBadLayout:
      return "bad shared-memory layout";
    case Errc::kNotReady:
      return "segment not ready";
    case Errc::kTooManySegments:
      return "too many segments";
    case Errc::kExhausted:
      return "block pool exhausted";
    case Errc::kWrongSegment:
      return "handle names another segment";
    case Errc::kBlockOutOfRange:
      return "handle block out of range";
    case Errc::kStaleHandle:
      return "stale handle";
    case Errc::kOutOfBounds:
      return "handle range out of bounds";
    case Errc::kNotOwned:
      return "block not allocated";
    case Errc::kBusy:
      return "ring endpoint busy";
    case Errc::kTimeout:
      return "timed out";
    case Errc::kPeerGone:
      return "peer gone";
  }
  return "unknown error";
}

std::string Describe(const Error& error) {
  std::string text = Name(error.code);
  if (error.sys_errno != 0) {
    text += ": ";
    text += std::generic_category().message(error.sys_errno);
  }
  return text;
}

}  // namespace zcpipe::shm
