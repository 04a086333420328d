// A temporary directory with a key file and generated inputs, for tests that run the zcpipe
// binary in it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "zcpipe_command.h"

namespace zcpipe::cli {

// Whether `text` (a command's output) holds `part`.
inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Stops `command` (SIGSTOP) and says whether it is early in writing `output`: its temporary
// file (".NAME.tmp-*" beside it) is there and holds at most `at_most` bytes. A signal sent to
// it then finds it under way, most of its work ahead, however fast the machine; Continue()
// it after.
inline bool StoppedEarlyIn(testing::BackgroundZcpipe& command, const std::filesystem::path& output,
                           std::uintmax_t at_most) {
  command.Stop();
  const auto prefix = "." + output.filename().string() + ".tmp-";
  for (const auto& entry : std::filesystem::directory_iterator(output.parent_path())) {
    if (entry.path().filename().string().starts_with(prefix)) {
      return entry.file_size() <= at_most;
    }
  }
  return false;
}

// `command` started in `dir` and stopped (SIGSTOP) early in writing `output` (at most
// `at_most` bytes of it), once a line of its stderr holds `started`. It is started again if it
// got further first, as a loaded machine may let it: then a signal sent to it finds it under
// way however fast the machine, before Continue(). Null if it never stopped early.
inline std::unique_ptr<testing::BackgroundZcpipe> StopEarly(const std::string& command,
                                                            const std::filesystem::path& dir,
                                                            const std::string& started,
                                                            const std::filesystem::path& output,
                                                            std::uintmax_t at_most) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto run = std::make_unique<testing::BackgroundZcpipe>(command, dir.string());
    std::optional<std::string> line;
    while ((line = run->ReadErrLine()) && line->find(started) == std::string::npos) {
    }
    if (line && StoppedEarlyIn(*run, output, at_most)) return run;
    run->Continue();
    (void)run->Wait();
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      const auto name = entry.path().filename().string();
      if (name.starts_with(".") || name.ends_with(".zcp")) std::filesystem::remove(entry.path());
    }
  }
  return nullptr;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zcpipe-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ASSERT_EQ(Run("keygen -o key").exit_code, 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // zcpipe ARGUMENTS, run in the test's directory.
  testing::CommandResult Run(const std::string& arguments) const {
    return testing::Zcpipe(arguments, dir_.string());
  }

  // `rows` rows of "id,email,amount" (id = 0..rows-1); the row with id `bad_id`, if any, has
  // the amount "oops". Written as the exporter writes values, so that a round trip is exact.
  std::string WriteCsv(const std::string& name, int rows, int bad_id = -1) const {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << "id,email,amount\n";
    for (int i = 0; i < rows; ++i) {
      out << i << ",user" << i << "@example.org,";
      if (i == bad_id)
        out << "oops";
      else
        out << i % 1000 << ".5";
      out << '\n';
    }
    return name;
  }

  // Imports WriteCsv("in.csv", rows) into out.zcp with the key "key".
  void ImportCsv(int rows) const {
    WriteCsv("in.csv", rows);
    const auto run = Run("run in.csv -o out.zcp -k key");
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  std::string Read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path dir_;
};

}  // namespace zcpipe::cli
