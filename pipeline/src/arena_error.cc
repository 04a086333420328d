#include "arena_error.h"

#include <cerrno>
#include <cstdio>

#include "zcpipe/shm/segment.h"

namespace zcpipe::detail {
namespace {

std::string Mebibytes(std::uint64_t bytes) {
  char text[32];
  (void)std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

bool IsOutOfSharedMemory(const shm::Error& error) {
  return error.code == shm::Errc::kSystem &&
         (error.sys_errno == ENOSPC || error.sys_errno == ENOMEM);
}

std::string ArenaError(std::string_view what, std::uint64_t asked, const shm::Error& error) {
  std::string message = "shared memory: cannot " + std::string(what) + " of " + Mebibytes(asked);
  if (!IsOutOfSharedMemory(error)) return message + ": " + shm::Describe(error);
  message += " in /dev/shm";
  if (const auto free = shm::FreeSharedMemory()) message += " (" + Mebibytes(*free) + " free)";
  return message + ": " + shm::Describe(error) +
         ": lower the arena size (zcpipe run --arena) or the chunk size, or give /dev/shm more "
         "room (docker run --shm-size, mount -o remount,size=... /dev/shm)";
}

}  // namespace zcpipe::detail
