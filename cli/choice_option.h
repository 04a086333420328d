// Options that take one of a few names (--format csv|jsonl) and store the matching enum value.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <type_traits>

namespace zcpipe::cli {

// Makes `option` accept exactly the names in `choices` and store the matching value; its help
// shows them as NAME|NAME|..., and any other value is refused with an error that lists them
// ("--on-error: 'skp' is not one of: fail, quarantine, skip"). Returns `option`.
template <class Enum>
CLI::Option* Choices(CLI::Option* option, const std::map<std::string, Enum>& choices) {
  std::string names, listed;
  for (const auto& [name, value] : choices) {
    names += (names.empty() ? "" : "|") + name;
    listed += (listed.empty() ? "" : ", ") + name;
  }
  // CLI11 then converts the text to the enum through its underlying integer.
  auto to_value = [choices, listed](std::string& text) -> std::string {
    const auto found = choices.find(text);
    if (found == choices.end()) return "'" + text + "' is not one of: " + listed;
    text = std::to_string(static_cast<std::underlying_type_t<Enum>>(found->second));
    return {};
  };
  return option->transform(CLI::Validator(to_value, ""))->option_text(names);
}

}  // namespace zcpipe::cli
