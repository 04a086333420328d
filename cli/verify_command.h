// `zcpipe verify`: authenticates every chunk of a .zcp container with its key.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddVerifyCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
