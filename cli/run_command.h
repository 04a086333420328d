// `zcpipe run`: imports CSV / JSON Lines files into encrypted .zcp containers, one job per input.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddRunCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
