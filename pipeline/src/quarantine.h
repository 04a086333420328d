// Quarantine: where a quarantine import (ErrorPolicy::kQuarantine) puts the rows it rejects.
// Private to zcpipe::pipeline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "import_error.h"
#include "rejects_file.h"
#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/redact.h"

namespace zcpipe::detail {

// The job's rejects file (RejectsFile: 0600, published whole when the job succeeds) and its
// lines: one JSON object per rejected row (RejectsLine), naming the input, the row's line and
// byte, the reason, and the raw row as the Redactor let it through.
//
// Ownership: owns the rejects file. Move-only.
// Thread-safety: one thread at a time (the write stage), except Sync, which the journal's
// committer may call meanwhile.
class Quarantine {
 public:
  // The rejects file for JobConfig::rejects `path`: new, or the temporary file `resume_temp`
  // of the run this one continues, cut back to the `resume_size` bytes its journal point covers.
  // Errors: kInitialization, naming `path` (it exists and !replace_existing, or cannot be made).
  [[nodiscard]] static ImportResult<Quarantine> Open(const JobErrors& errors,
                                                     const std::filesystem::path& path,
                                                     bool replace_existing,
                                                     const std::filesystem::path& resume_temp,
                                                     std::uint64_t resume_size);

  // Appends the line of `row`, rejected from the input, whose raw bytes `echo` says how to show.
  // Errors: as RejectsFile::Append.
  [[nodiscard]] stages::ContainerStatus Append(const stages::InputError& row, stages::RawEcho echo);
  // RejectsFile's, for the journal's points and the job's end.
  [[nodiscard]] stages::ContainerStatus Flush() { return file_.Flush(); }
  [[nodiscard]] stages::ContainerStatus Sync() { return file_.Sync(); }
  [[nodiscard]] stages::ContainerStatus Publish() { return file_.Publish(); }
  void Keep() { file_.Keep(); }
  [[nodiscard]] std::uint64_t size() const { return file_.size(); }
  [[nodiscard]] const std::filesystem::path& temp_path() const { return file_.temp_path(); }

 private:
  Quarantine(RejectsFile file, std::string input_name)
      : file_(std::move(file)), input_name_(std::move(input_name)) {}

  RejectsFile file_;
  std::string input_name_;
};

}  // namespace zcpipe::detail
