// zcpipe: the command-line front end. A thin layer over the library; see --help.
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "command_suggestion.h"
#include "diagnostics.h"
#include "exit_codes.h"
#include "export_command.h"
#include "gc_command.h"
#include "inspect_command.h"
#include "keygen_command.h"
#include "run_command.h"
#include "verify_command.h"
#include "zcpipe/workgroup/worker.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{"zcpipe: zero-copy shared-memory pipeline for bulk CSV / JSON Lines import",
               "zcpipe"};
  app.set_version_flag("--version", "zcpipe " ZCPIPE_VERSION);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {  // before the subcommands copy it
    return zcpipe::cli::ErrorLine(e.what(), zcpipe::cli::ColorOn(STDERR_FILENO)) +
           "Run with --help for more information.\n";
  });
  int exit_code = zcpipe::cli::kOk;
  zcpipe::cli::AddRunCommand(app, exit_code);
  zcpipe::cli::AddKeygenCommand(app, exit_code);
  zcpipe::cli::AddExportCommand(app, exit_code);
  zcpipe::cli::AddInspectCommand(app, exit_code);
  zcpipe::cli::AddVerifyCommand(app, exit_code);
  zcpipe::cli::AddGcCommand(app, exit_code);
  if (argc > 1) {
    if (auto unknown = zcpipe::cli::UnknownCommand(app, argv[1])) {
      std::cerr << zcpipe::cli::ErrorLine(*unknown, zcpipe::cli::ColorOn(STDERR_FILENO))
                << "Run with --help for more information.\n";
      return zcpipe::cli::kUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int printed = app.exit(e);  // prints help/version or the usage error
    return printed == 0 ? zcpipe::cli::kOk : zcpipe::cli::kUsage;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // zcpipe holds keys, passphrases and rows in clear: no core dump of it, and no ptrace or
  // /proc/PID/mem by other processes of the user (issue 24). Before any secret is read.
  ::prctl(PR_SET_DUMPABLE, 0);
  // --isolate: this program is also its own worker process.
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    zcpipe::cli::PrintError(std::string("internal: ") + e.what());
    return zcpipe::cli::kInternal;
  }
}
