// Errors of the workgroup layer, returned as values.
//
// Every fallible call in zcpipe::workgroup returns a tl::expected holding its value or a
// `WorkError`: a request's result (WorkResult), a member's creation, a started worker
// (AddWorker), and worker code's own result (TaskResult, worker.h). Only Launch throws: it is
// start-up, like a constructor.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace zcpipe::workgroup {

// What went wrong with a request, for its caller and for the error handlers.
enum class WorkErrc : std::uint8_t {
  kJob,             // a task returned an error (its message says why)
  kMember,          // a member call failed, or its member is gone (its worker died)
  kInitialization,  // a worker did not start, or a member's set-up threw
  kCommunication,   // a worker died, stalled past its timeout or returned garbage
  kShutdown,        // the workgroup stopped before the request ran
};

// A stable, lowercase name for `code` ("initialization"), for logs and error messages.
const char* Name(WorkErrc code);

struct WorkError {
  WorkErrc code = WorkErrc::kJob;
  std::string message;
  int worker = -1;      // the worker it happened on, when there is one
  bool poison = false;  // kCommunication: the request killed `max_retries + 1` workers in a row
  int sys_errno = 0;    // kInitialization: errno of the system call that failed, if one did
};

// Shorthand for worker code: `return TaskFail("no such column");` in a task or a member call.
// The caller receives `message` as a kJob error (kMember for a member call); the workgroup
// fills in the worker.
inline tl::unexpected<WorkError> TaskFail(std::string message) {
  return tl::unexpected<WorkError>(WorkError{WorkErrc::kJob, std::move(message)});
}

}  // namespace zcpipe::workgroup
