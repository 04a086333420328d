#include "gc_command.h"

#include <iostream>
#include <memory>

#include "exit_codes.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::cli {

void AddGcCommand(CLI::App& app, int& exit_code) {
  auto* gc = app.add_subcommand(
      "gc", "Remove shared-memory segments left by zcpipe processes that are no longer running");
  gc->footer(
      "Segments of running zcpipe processes are left alone. Example:\n"
      "  zcpipe gc --dry-run    # list what would be removed");
  auto dry_run = std::make_shared<bool>(false);
  gc->add_flag("-n,--dry-run", *dry_run, "List the segments that would be removed; remove none");
  gc->callback([dry_run, &exit_code] {
    const auto report = shm::Sweep(*dry_run);
    for (const auto& name : report.removed) {
      std::cout << (*dry_run ? "would remove " : "removed ") << "/dev/shm/" << name << '\n';
    }
    for (const auto& name : report.failed) {
      std::cerr << "zcpipe: error: /dev/shm/" << name << ": could not remove\n";
    }
    std::cout << report.removed.size() << (*dry_run ? " to remove, " : " removed, ") << report.live
              << " in use by running processes\n";
    exit_code = report.failed.empty() ? kOk : kInternal;
  });
}

}  // namespace zcpipe::cli
