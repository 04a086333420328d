// The process-wide table of named worker code (worker.h). Private to zcpipe::pipeline.
#pragma once

#include <optional>
#include <string>

#include "zcpipe/pipeline/worker.h"

namespace zcpipe::detail {

[[nodiscard]] std::optional<TaskFunction> FindTask(const std::string& name);
[[nodiscard]] std::optional<MemberFactory> FindMember(const std::string& name);

// Registers the pipeline's own worker code (the isolated import stages); idempotent.
void RegisterPipelineMembers();

}  // namespace zcpipe::detail
