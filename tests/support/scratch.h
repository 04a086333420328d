// Scratch: what most job tests set up first, a directory of their own and a credential.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zcpipe/stages/key.h"

namespace zcpipe::testing {

// `<tmp>/zcpipe-<tag>-<pid>-<test name>`: one per process and test, so tests run in parallel
// (ctest -j) never share one. Not created: the caller creates it (and removes it in TearDown).
// REQUIRES: called while a test runs.
inline std::filesystem::path TestDir(std::string_view tag) {
  return std::filesystem::temp_directory_path() /
         ("zcpipe-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

// A credential from a raw 32-byte key whose bytes are all `fill`.
inline std::shared_ptr<const stages::Credential> TestKey(std::byte fill = std::byte{7}) {
  return std::make_shared<const stages::Credential>(stages::Credential::FromKey(
      std::move(*stages::FileKey::FromBytes(std::vector<std::byte>(32, fill)))));
}

}  // namespace zcpipe::testing
