// The process-wide table of named worker code (worker.h). Private to zcpipe::workgroup.
#pragma once

#include <optional>
#include <string>

#include "zcpipe/workgroup/worker.h"

namespace zcpipe::workgroup::detail {

[[nodiscard]] std::optional<TaskFunction> FindTask(const std::string& name);
[[nodiscard]] std::optional<MemberFactory> FindMember(const std::string& name);

}  // namespace zcpipe::workgroup::detail
