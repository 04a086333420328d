#include "exit_codes.h"

namespace zcpipe::cli {

ExitCode ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInput:
    case ErrorKind::kInitialization:
      return kInputError;
    case ErrorKind::kIntegrity:
      return kIntegrity;
    case ErrorKind::kConfiguration:
      return kUsage;
    case ErrorKind::kStage:
    case ErrorKind::kWorkerCrash:
    case ErrorKind::kCommunication:
      break;
  }
  return kInternal;
}

ExitCode ExitCodeFor(const stages::ContainerError& error) {
  if (stages::IsSystemFailure(error)) return kInternal;
  using enum stages::ContainerErrc;
  switch (error.code) {
    case kInvalidArgument:
    case kCrypto:
      return kInternal;
    case kIo:
    case kAlreadyExists:
    case kBadKeyFile:
    case kNotZcp:
    case kUnsupportedVersion:
    case kUnsupportedAlgorithm:
    case kUnsupportedKeySource:
    case kParamsAboveCaps:
    case kKeySourceMismatch:
    case kWrongKey:
      return kInputError;
    case kMalformedHeader:
    case kTamperedHeader:
    case kTamperedChunk:
    case kReorderedChunk:
    case kDuplicatedChunk:
    case kTruncated:
    case kTrailingBytes:
    case kNotRecordBatches:
      return kIntegrity;
    case kCancelled:
      return kInterrupted;
  }
  return kInternal;
}

}  // namespace zcpipe::cli
