// Transport: how a request's payload crosses the process boundary to a worker.
#pragma once

#include <cstdint>

namespace zcpipe::workgroup {

enum class Transport : std::uint8_t {
  kZeroCopy,  // a handle into the shared-memory arena; no payload byte is copied
  kCopy,      // the payload bytes through a copy-based channel: the baseline benchmarks compare
};

}  // namespace zcpipe::workgroup
