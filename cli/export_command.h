// `zcpipe export`: a .zcp container back to CSV or JSON Lines, a file or stdout.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddExportCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
