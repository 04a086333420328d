// Options that take one of a few names (--format csv|jsonl) and store the matching enum value.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace zcpipe::cli {

// Makes `option` accept exactly the names in `choices` and store the matching value; its help
// shows them as NAME|NAME|... Returns `option`.
template <class Enum>
CLI::Option* Choices(CLI::Option* option, const std::map<std::string, Enum>& choices) {
  std::string names;
  for (const auto& [name, value] : choices) names += (names.empty() ? "" : "|") + name;
  return option->transform(CLI::CheckedTransformer(choices).description(""))->option_text(names);
}

}  // namespace zcpipe::cli
