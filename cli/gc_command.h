// `zcpipe gc`: removes shared memory left behind by zcpipe runs that died.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddGcCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
