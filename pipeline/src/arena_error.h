// What a job says when the shared memory of its arena cannot be had (/dev/shm too small).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zcpipe/shm/error.h"

namespace zcpipe::detail {

// Whether `error` is the system running out of shared memory (/dev/shm full, a memory limit).
[[nodiscard]] bool IsOutOfSharedMemory(const shm::Error& error);

// "shared memory: cannot <what> of 256.0 MiB in /dev/shm (12.0 MiB free): No space left on
// device: lower the arena size (zcpipe run --arena) or the chunk size, or give /dev/shm more
// room (docker run --shm-size, mount -o remount,size=...)": what failed, how much was asked,
// what there is and what to do. For another error: what failed, and the error.
[[nodiscard]] std::string ArenaError(std::string_view what, std::uint64_t asked,
                                     const shm::Error& error);

}  // namespace zcpipe::detail
