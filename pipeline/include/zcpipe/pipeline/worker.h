// Forwarding header: worker code is part of the layer zcpipe::workgroup
// (zcpipe/workgroup/worker.h). Kept so that code written against zcpipe::RegisterTask and
// zcpipe::RunIfWorker still compiles; new code includes the workgroup layer's header.
#pragma once

#include "zcpipe/workgroup/worker.h"

namespace zcpipe {

using workgroup::kTaskArgs;
using workgroup::Member;
using workgroup::MemberFactory;
using workgroup::RegisterMember;
using workgroup::RegisterTask;
using workgroup::RunIfWorker;
using workgroup::TaskContext;
using workgroup::TaskFail;
using workgroup::TaskFunction;
using workgroup::TaskResult;

}  // namespace zcpipe
