// FileNames: what a test's directory holds, to assert that nothing else was left in it.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace zcpipe::testing {

// The names of the entries of `dir` (hidden ones too: temporary files), sorted.
inline std::vector<std::string> FileNames(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace zcpipe::testing
