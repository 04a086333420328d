// `zcpipe gc [PATH...]`: removes shared memory, and the temporary files beside given outputs,
// left behind by zcpipe runs that died.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddGcCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
