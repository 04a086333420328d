// Forwarding header: the Workgroup is the layer zcpipe::workgroup (zcpipe/workgroup/workgroup.h).
// Kept so that code written against zcpipe::Workgroup still compiles; new code includes the
// workgroup layer's header and names zcpipe::workgroup::Workgroup.
#pragma once

#include "zcpipe/pipeline/worker.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe {

using workgroup::HealthConfig;
using workgroup::MemberProxy;
using workgroup::Name;
using workgroup::ProbeResult;
using workgroup::Request;
using workgroup::Transport;
using workgroup::WorkErrc;
using workgroup::WorkError;
using workgroup::Workgroup;
using workgroup::WorkgroupOptions;
using workgroup::WorkgroupStats;
using workgroup::WorkResult;

}  // namespace zcpipe
