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

ExitCode ExitCodeFor(stages::ContainerErrc code) {
  using enum stages::ContainerErrc;
  switch (code) {
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
