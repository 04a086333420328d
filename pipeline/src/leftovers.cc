// SweepLeftovers: the temporary files and the journal that dead runs left beside an output.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "journal.h"
#include "zcpipe/pipeline/job.h"

namespace zcpipe {

stages::TemporarySweep SweepLeftovers(const std::filesystem::path& output, bool dry_run) {
  stages::TemporarySweep sweep = stages::SweepTemporaries(output, dry_run);
  if (!sweep.live.empty()) return sweep;  // a running import's journal: left alone
  const auto journal = detail::Journal::PathFor(output);
  struct stat info {};
  // The user's own file (or a symlink, which unlink removes, never its target).
  if (::lstat(journal.c_str(), &info) != 0 || info.st_uid != ::geteuid() ||
      !(S_ISREG(info.st_mode) || S_ISLNK(info.st_mode))) {
    return sweep;
  }
  if (!dry_run && ::unlink(journal.c_str()) != 0 && errno != ENOENT) {
    sweep.failed.emplace_back(journal, std::error_code(errno, std::generic_category()).message());
  } else {
    sweep.removed.push_back(journal);
  }
  return sweep;
}

}  // namespace zcpipe
