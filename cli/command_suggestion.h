// What to say when the first argument names no command ("zcpipe rn": did you mean `run`?).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace zcpipe::cli {

// When `typed` (the first argument, not an option) names none of `app`'s subcommands: the error
// to print, naming the closest subcommand (at most 2 edits away) or listing them all.
// nullopt when `typed` is a subcommand or an option.
[[nodiscard]] std::optional<std::string> UnknownCommand(const CLI::App& app,
                                                        std::string_view typed);

}  // namespace zcpipe::cli
