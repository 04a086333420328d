// The zcpipe command's exit codes; documented in README.md ("Exit codes").
#pragma once

namespace zcpipe::cli {

enum ExitCode : int {
  kOk = 0,
  kInternal = 1,  // something failed that is not the input's fault
  kUsage = 2,     // bad command line
};

}  // namespace zcpipe::cli
