// `zcpipe keygen`: writes a new random 32-byte key file, mode 0600, never over an existing file.
#pragma once

#include <CLI/CLI.hpp>

namespace zcpipe::cli {

// Adds the subcommand to `app`; running it sets `exit_code`.
void AddKeygenCommand(CLI::App& app, int& exit_code);

}  // namespace zcpipe::cli
