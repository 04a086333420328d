// RejectsFile: the rejects file of a quarantine import (JobConfig::rejects), written as the
// import goes and published whole when it succeeds. Private to zcpipe::pipeline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "zcpipe/stages/atomic_file.h"

namespace zcpipe::detail {

// JSON Lines appended to a temporary file beside the rejects path (stages::AtomicFile: mode
// 0600, locked while written, renamed into place by Publish without replacing a file unless
// asked). Lines are buffered and written in large writes; every write is checked, and after a
// failed one every call fails, so that a full disk fails the job instead of cutting the file.
// Destroying a RejectsFile that was not published removes its temporary file (Keep leaves it,
// for a resumed import to continue).
//
// Ownership: owns its temporary file. Move-only.
// Thread-safety: one thread at a time (the write stage), except Sync, which the journal's
// committer may call meanwhile (it fsyncs and touches nothing else).
class RejectsFile {
 public:
  // A new, empty temporary file for `path`. Errors: as stages::AtomicFile::Create
  // (kAlreadyExists when `path` exists and !replace_existing).
  [[nodiscard]] static stages::ContainerResult<RejectsFile> Create(
      const std::filesystem::path& path, bool replace_existing);
  // The temporary file `temp_path` of an import of `path` that stopped, cut back to the `size`
  // bytes its journal point covers. Errors: as stages::AtomicFile::Resume.
  [[nodiscard]] static stages::ContainerResult<RejectsFile> Resume(
      const std::filesystem::path& path, const std::filesystem::path& temp_path,
      bool replace_existing, std::uint64_t size);

  // Appends `line` (a whole line, with its newline). Errors: kIo.
  [[nodiscard]] stages::ContainerStatus Append(std::string_view line);
  // Writes every line appended so far to the file (before a journal point). Errors: kIo.
  [[nodiscard]] stages::ContainerStatus Flush();
  // Makes what Flush wrote durable (fsync). Errors: kIo.
  [[nodiscard]] stages::ContainerStatus Sync();
  // Flush, fsync and rename into place. Errors: kIo, kAlreadyExists.
  [[nodiscard]] stages::ContainerStatus Publish();
  // Closes the temporary file and leaves it for a resumed import, which cuts it back to its
  // journal point (lines not flushed before that point do not matter).
  void Keep() { file_.Keep(); }

  // Bytes appended so far (those Flush wrote, and those waiting for it).
  [[nodiscard]] std::uint64_t size() const { return file_.size() + buffer_.size(); }
  [[nodiscard]] const std::filesystem::path& temp_path() const { return file_.temp_path(); }

 private:
  explicit RejectsFile(stages::AtomicFile file) : file_(std::move(file)) {}

  stages::AtomicFile file_;
  std::string buffer_;  // appended, not yet written
  bool failed_ = false;
};

}  // namespace zcpipe::detail
