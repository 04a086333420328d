#include "job_resources.h"

namespace zcpipe {

JobResources::JobResources() : state_(std::make_unique<detail::JobResourcesState>()) {}

JobResources::~JobResources() = default;

namespace detail {
JobResourcesState& StateOf(JobResources& resources) { return *resources.state_; }
}  // namespace detail

}  // namespace zcpipe
