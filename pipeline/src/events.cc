#include "zcpipe/pipeline/events.h"

#include "zcpipe/pipeline/job.h"

namespace zcpipe {

const char* Name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInput:
      return "input";
    case ErrorKind::kStage:
      return "stage";
    case ErrorKind::kWorkerCrash:
      return "worker crash";
    case ErrorKind::kCommunication:
      return "communication";
    case ErrorKind::kInitialization:
      return "initialization";
    case ErrorKind::kIntegrity:
      return "integrity";
    case ErrorKind::kConfiguration:
      return "configuration";
  }
  return "error";
}

const char* Name(Stage stage) {
  switch (stage) {
    case Stage::kRead:
      return "read";
    case Stage::kParse:
      return "parse";
    case Stage::kTransform:
      return "transform";
    case Stage::kEncrypt:
      return "encrypt";
    case Stage::kWrite:
      return "write";
  }
  return "stage";
}

const char* Name(JobStatus status) {
  switch (status) {
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kFailed:
      return "failed";
    case JobStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace zcpipe
