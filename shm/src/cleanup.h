// Removal of this process's segment names at exit and on fatal signals.
#pragma once

#include <string_view>

#include "zcpipe/shm/error.h"

namespace zcpipe::shm::detail {

// Remembers `name` (without the leading '/') as owned by the calling process. The first call
// also installs the exit hook and the SIGINT/SIGTERM/SIGHUP handlers (see Segment).
// Errors: kTooManySegments when the fixed-size registry is full.
[[nodiscard]] Status RegisterOwnedName(std::string_view name);
void ForgetOwnedName(std::string_view name);

}  // namespace zcpipe::shm::detail
