// The import itself: set-up, the flow graph, and the report. Private to zcpipe::pipeline.
#pragma once

#include <atomic>
#include <cstdint>

#include "zcpipe/pipeline/event_channel.h"
#include "zcpipe/pipeline/job.h"

namespace zcpipe::detail {

// Runs the job described by `config` to its end on the calling thread, publishing its events
// on `channel` (which it closes with the final progress event) and returning the report.
// `cancel` is polled between chunks.
Report RunImport(std::uint64_t job, const JobConfig& config, EventChannel& channel,
                 const std::atomic<bool>& cancel);

}  // namespace zcpipe::detail
