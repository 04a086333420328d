#include "zcpipe/stages/container_error.h"

#include <cerrno>
#include <system_error>

namespace zcpipe::stages {

const char* Name(ContainerErrc code) {
  switch (code) {
    case ContainerErrc::kInvalidArgument:
      return "invalid argument";
    case ContainerErrc::kIo:
      return "i/o error";
    case ContainerErrc::kAlreadyExists:
      return "already exists";
    case ContainerErrc::kBadKeyFile:
      return "bad key file";
    case ContainerErrc::kCrypto:
      return "crypto library failure";
    case ContainerErrc::kNotZcp:
      return "not a zcp file";
    case ContainerErrc::kUnsupportedVersion:
      return "unsupported format version";
    case ContainerErrc::kUnsupportedAlgorithm:
      return "unsupported algorithm";
    case ContainerErrc::kUnsupportedKeySource:
      return "unsupported key source";
    case ContainerErrc::kParamsAboveCaps:
      return "parameters above caps";
    case ContainerErrc::kMalformedHeader:
      return "malformed header";
    case ContainerErrc::kKeySourceMismatch:
      return "key source mismatch";
    case ContainerErrc::kTamperedHeader:
      return "tampered header";
    case ContainerErrc::kWrongKey:
      return "wrong key";
    case ContainerErrc::kTamperedChunk:
      return "tampered chunk";
    case ContainerErrc::kReorderedChunk:
      return "reordered chunk";
    case ContainerErrc::kDuplicatedChunk:
      return "duplicated chunk";
    case ContainerErrc::kTruncated:
      return "truncated";
    case ContainerErrc::kTrailingBytes:
      return "trailing bytes";
    case ContainerErrc::kNotRecordBatches:
      return "not record batches";
    case ContainerErrc::kCancelled:
      return "cancelled";
  }
  return "unknown error";
}

bool IsSystemFailure(const ContainerError& error) {
  if (error.code != ContainerErrc::kIo) return false;
  switch (error.sys_errno) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EIO:
      return true;
    default:
      return false;
  }
}

std::string Describe(const ContainerError& error) {
  std::string text = Name(error.code);
  if (error.chunk_index || error.byte_offset) {
    text += " (";
    if (error.chunk_index) text += "chunk " + std::to_string(*error.chunk_index);
    if (error.chunk_index && error.byte_offset) text += ", ";
    if (error.byte_offset) text += "byte " + std::to_string(*error.byte_offset);
    text += ")";
  }
  if (!error.message.empty()) text += ": " + error.message;
  if (error.sys_errno != 0) text += ": " + std::generic_category().message(error.sys_errno);
  return text;
}

}  // namespace zcpipe::stages
