// Which ErrorKind a failure of the output container is, so that the same failure gives the
// same exit code at every step of the job (README, "Exit codes").
#pragma once

#include "zcpipe/pipeline/events.h"
#include "zcpipe/stages/container_error.h"

namespace zcpipe::detail {

// The system failing to store the bytes (a full disk, an I/O error: stages::IsSystemFailure)
// is kStage whenever it happens; an output that exists (maybe created by another run
// meanwhile) is kInitialization, about the files given; anything else is `otherwise`, the
// step's own kind.
inline ErrorKind OutputErrorKind(const stages::ContainerError& error, ErrorKind otherwise) {
  if (stages::IsSystemFailure(error)) return ErrorKind::kStage;
  if (error.code == stages::ContainerErrc::kAlreadyExists) return ErrorKind::kInitialization;
  return otherwise;
}

}  // namespace zcpipe::detail
