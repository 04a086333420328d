#include "gc_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "exit_codes.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/shm/segment.h"

namespace zcpipe::cli {

void AddGcCommand(CLI::App& app, int& exit_code) {
  auto* gc =
      app.add_subcommand("gc",
                         "Remove shared-memory segments, and the temporary files beside "
                         "given outputs, left by zcpipe processes that are no longer running");
  gc->footer(
      "Segments and temporary files of running zcpipe processes are left alone. A PATH is an\n"
      "output (container, rejects file, trace or export): its \".NAME.tmp-*\" files of dead runs\n"
      "go, and the journal of an interrupted --resume import (which can then not be resumed).\n"
      "Examples:\n"
      "  zcpipe gc --dry-run            # list what would be removed\n"
      "  zcpipe gc out.zcp back.csv     # also the leftovers beside these outputs");
  auto dry_run = std::make_shared<bool>(false);
  auto paths = std::make_shared<std::vector<std::filesystem::path>>();
  gc->add_flag("-n,--dry-run", *dry_run, "List what would be removed; remove nothing");
  gc->add_option("PATH", *paths, "Outputs whose leftover temporary files to remove too");
  gc->callback([dry_run, paths, &exit_code] {
    const char* removed = *dry_run ? "would remove " : "removed ";
    const auto report = shm::Sweep(*dry_run);
    for (const auto& name : report.removed) std::cout << removed << "/dev/shm/" << name << '\n';
    bool failed = false;
    for (const auto& name : report.failed) {
      std::cerr << "zcpipe: error: /dev/shm/" << name << ": could not remove\n";
      failed = true;
    }
    std::size_t files = 0, live_files = 0;
    for (const auto& path : *paths) {
      const auto sweep = SweepLeftovers(path, *dry_run);
      for (const auto& file : sweep.removed) std::cout << removed << file.string() << '\n';
      for (const auto& [file, why] : sweep.failed) {
        std::cerr << "zcpipe: error: " << file.string() << ": could not remove: " << why << '\n';
        failed = true;
      }
      files += sweep.removed.size();
      live_files += sweep.live.size();
    }
    std::cout << report.removed.size() << (*dry_run ? " to remove, " : " removed, ") << report.live
              << " in use by running processes\n";
    if (!paths->empty()) {
      std::cout << "temporary files: " << files << (*dry_run ? " to remove, " : " removed, ")
                << live_files << " being written by running processes\n";
    }
    exit_code = failed ? kInternal : kOk;
  });
}

}  // namespace zcpipe::cli
