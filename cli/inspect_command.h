// `zcpipe inspect`: what a .zcp container's header and frames say, without a key.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddInspectCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
