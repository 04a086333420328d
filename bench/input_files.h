// The generated sample CSV (csv_sample.h) as files of given sizes, each written once, when first
// asked for, into one temporary directory that is removed at exit. Streamed to disk: a 2 GiB
// input never sits in this process's memory (bench_pipeline measures its peak RSS).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "corpus.h"
#include "csv_sample.h"

namespace zcpipe::bench {

// The inputs' directory: this prefix, the creating process's id, '-', 6 random characters.
inline constexpr std::string_view kInputsPrefix = "zcpipe-bench-inputs-";

// Removes the input directories of runs that were killed (their creating process is gone).
inline void RemoveStaleInputs() {
  std::error_code error;
  for (auto it = fs::directory_iterator(fs::temp_directory_path(), error);
       !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kInputsPrefix)) continue;
    const int pid = std::atoi(name.c_str() + kInputsPrefix.size());
    std::error_code ignored;
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(it->path(), ignored);
  }
}

struct InputFile {
  fs::path path;
  std::uint64_t bytes = 0;
  std::uint64_t rows = 0;  // data rows, the header not counted
};

class InputFiles {
 public:
  InputFiles() = default;
  InputFiles(const InputFiles&) = delete;
  InputFiles& operator=(const InputFiles&) = delete;
  ~InputFiles() {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  // The sample of at least `mib` MiB (the content MakeSampleCsv(mib << 20) would return).
  // Throws std::runtime_error when it cannot be written, or when the temporary directory's file
  // system lacks room for it and `also_needed` more bytes (an import's output, say).
  const InputFile& Get(std::size_t mib, std::uint64_t also_needed) {
    if (auto found = files_.find(mib); found != files_.end()) return found->second;
    if (dir_.empty())
      dir_ = MakeTempDir(std::string(kInputsPrefix) + std::to_string(::getpid()) + "-");
    const std::uint64_t target = std::uint64_t{mib} << 20;
    const std::uint64_t available = fs::space(dir_).available;
    if (available < target + also_needed) {
      throw std::runtime_error("bench input: " + std::to_string(mib) + " MiB plus " +
                               std::to_string(also_needed >> 20) + " MiB do not fit in " +
                               dir_.string() + " (" + std::to_string(available >> 20) +
                               " MiB free); set TMPDIR elsewhere");
    }
    InputFile file{.path = dir_ / ("sample-" + std::to_string(mib) + "MiB.csv")};
    std::ofstream out(file.path, std::ios::binary);
    std::string rows = kSampleHeader;
    constexpr std::uint64_t kBatch = 10000;
    while (file.bytes + rows.size() < target) {
      file.bytes += rows.size();
      out << rows;
      rows.clear();
      AppendSampleRows(file.rows, kBatch, rows);
      file.rows += kBatch;
    }
    file.bytes += rows.size();
    out << rows;
    out.close();
    if (!out) throw std::runtime_error("bench input: cannot write " + file.path.string());
    return files_.emplace(mib, std::move(file)).first->second;
  }

 private:
  fs::path dir_;
  std::map<std::size_t, InputFile> files_;
};

}  // namespace zcpipe::bench
