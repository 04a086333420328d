#include "command_suggestion.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace zcpipe::cli {
namespace {

// Levenshtein distance: insertions, deletions and substitutions turning `a` into `b`.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> UnknownCommand(const CLI::App& app, std::string_view typed) {
  if (typed.empty() || typed.front() == '-') return std::nullopt;
  std::string names, closest;
  std::size_t best = 3;  // suggest only what is at most 2 edits away
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& name = command->get_name();
    if (name == typed) return std::nullopt;
    names += (names.empty() ? "" : ", ") + name;
    if (const std::size_t distance = EditDistance(typed, name); distance < best) {
      best = distance;
      closest = name;
    }
  }
  std::string message = "'" + std::string(typed) + "' is not a zcpipe command; ";
  return message +
         (closest.empty() ? "the commands are: " + names : "did you mean '" + closest + "'?");
}

}  // namespace zcpipe::cli
