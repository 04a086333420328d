#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>

#include <boost/interprocess/shared_memory_object.hpp>

#include "segment_layout.h"
#include "zcpipe/shm/process.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::shm {
namespace {

// Whether the process that created segment `name` may still be using it. Uses the creator
// identity in the header when the header is complete, else the pid in the name (a segment whose
// header is not written yet belongs to a creator that is still in Segment::Create).
bool CreatorAlive(const std::filesystem::path& path, std::string_view name) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    detail::SegmentHeader header;
    const ssize_t n = ::pread(fd, &header, sizeof header, 0);
    ::close(fd);
    if (n == static_cast<ssize_t>(sizeof header) && header.magic == detail::kSegmentMagic &&
        header.state.load(std::memory_order_relaxed) == detail::kSegmentReady) {
      return ProcessIdentity::Unpack(header.creator).Alive();
    }
  }
  name.remove_prefix(kSegmentPrefix.size());
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || end == name.data() + name.size() || *end != '.') return false;
  return ProcessIdentity::Of(pid).has_value();
}

}  // namespace

SweepReport Sweep(bool dry_run) {
  SweepReport report;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(detail::kShmDir, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kSegmentPrefix)) continue;
    if (CreatorAlive(entry.path(), name)) {
      ++report.live;
    } else if (dry_run || boost::interprocess::shared_memory_object::remove(name.c_str())) {
      report.removed.push_back(name);
    } else {
      report.failed.push_back(name);
    }
  }
  return report;
}

}  // namespace zcpipe::shm
