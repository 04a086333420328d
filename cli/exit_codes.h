// The zcpipe command's exit codes, and which one each kind of failure gives; documented in
// README.md ("Exit codes").
#pragma once

#include "zcpipe/pipeline/events.h"
#include "zcpipe/stages/container_error.h"

namespace zcpipe::cli {

enum ExitCode : int {
  kOk = 0,
  kInternal = 1,       // something failed that is not the input's fault
  kUsage = 2,          // bad command line
  kInputError = 3,     // bad input: a bad row, a missing or unreadable file, a wrong key...
  kIntegrity = 4,      // a container failed verification: tampered, truncated, reordered...
  kInterrupted = 130,  // SIGINT, SIGTERM or SIGHUP: cancelled cleanly, nothing published
};

// The exit code for a job that failed with an error of this kind.
[[nodiscard]] ExitCode ExitCodeFor(ErrorKind kind);
// The exit code for a container (or key file) error: by its code, except that the system
// failing to store or read the bytes (a full disk: stages::IsSystemFailure) is kInternal, as
// it is for `run` at every step and size.
[[nodiscard]] ExitCode ExitCodeFor(const stages::ContainerError& error);

}  // namespace zcpipe::cli
