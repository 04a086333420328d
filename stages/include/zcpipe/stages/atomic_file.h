// AtomicFile: write a new file under a temporary name, then publish it whole; and find the
// temporary files that writers which died left behind.
//
// Every file zcpipe writes goes through it: the container, its rejects file and trace, exports,
// decrypted files and key files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "zcpipe/stages/container_error.h"

namespace zcpipe::stages {

// A file being written as "<dir>/.<name>.tmp-XXXXXX" (mkostemp: O_EXCL, so never through a
// symlink; mode 0600 whatever the umask) next to its final path "<dir>/<name>". Commit() fsyncs
// it, renames it to the final path (without replacing an existing file unless asked:
// RENAME_NOREPLACE, or link+unlink where the file system lacks it) and fsyncs the directory.
// Until Commit succeeds, destroying the AtomicFile removes the temporary file; after any failure
// of Commit, nothing is left under the final name.
//
// Liveness: while an AtomicFile owns its temporary file it holds an exclusive flock(2) on it
// (through Commit's rename). The kernel drops the lock when the process dies, however it dies, so
// a temporary file that nobody holds locked belongs to no live writer: SweepTemporaries, run by
// every Create and Resume for their own final path and by `zcpipe gc PATH`, removes those.
//
// Ownership: owns the descriptor and the temporary name. Move-only.
// Thread-safety: one thread at a time, except that Sync may run on another thread while Write
// appends (it only fsyncs the descriptor, which changes at Commit, Keep and destruction).
class AtomicFile {
 public:
  // Creates the temporary file, then removes the temporary files of `final_path` that dead
  // writers left. When !replace_existing and something (even a dangling symlink) already has the
  // final name, fails early with kAlreadyExists; Commit checks again, atomically.
  // Errors: kInvalidArgument (no file name), kAlreadyExists, kIo.
  [[nodiscard]] static ContainerResult<AtomicFile> Create(const std::filesystem::path& final_path,
                                                          bool replace_existing);

  // Takes over the temporary file of an earlier AtomicFile for the same final path (its process
  // died, or it called Keep), cut back to its first `size` bytes, to append after them.
  // REQUIRES: `temp_path` is a temporary file name of `final_path` (IsTemporaryOf), else
  // kInvalidArgument: a journal naming another file cannot make it truncate that file.
  // Errors: kInvalidArgument, kIo (missing, not the caller's regular file, shorter than `size`,
  // or held by a live writer: EBUSY), kAlreadyExists as Create.
  [[nodiscard]] static ContainerResult<AtomicFile> Resume(const std::filesystem::path& final_path,
                                                          const std::filesystem::path& temp_path,
                                                          bool replace_existing,
                                                          std::uint64_t size);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  ~AtomicFile();

  // Appends all of `bytes`. Errors: kIo.
  [[nodiscard]] ContainerStatus Write(std::span<const std::byte> bytes);
  // REQUIRES: not committed yet. Errors: kAlreadyExists, kIo.
  [[nodiscard]] ContainerStatus Commit();
  // Makes what was written so far durable (fsync), without publishing it. Errors: kIo.
  [[nodiscard]] ContainerStatus Sync();
  // Closes the temporary file (releasing its lock) and leaves it in place, for a later Resume;
  // this AtomicFile then owns nothing. A later Create for the same final path, or a sweep,
  // removes it. REQUIRES: not committed.
  void Keep();

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  AtomicFile() = default;
  void Discard();

  int fd_ = -1;
  bool temp_exists_ = false;
  bool replace_existing_ = false;
  std::uint64_t size_ = 0;
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
};

// Whether `candidate` is named as AtomicFile names the temporary files of `final_path`: in the
// same directory (as written), ".<name>.tmp-" and six letters or digits.
[[nodiscard]] bool IsTemporaryOf(const std::filesystem::path& final_path,
                                 const std::filesystem::path& candidate);

// IsTemporaryOf, as an error: kInvalidArgument naming both when it does not hold. For whatever
// reads or writes a file whose name came from elsewhere (a journal), before touching it.
[[nodiscard]] ContainerStatus RequireTemporaryOf(const std::filesystem::path& final_path,
                                                 const std::filesystem::path& candidate);

// What SweepTemporaries found.
struct TemporarySweep {
  std::vector<std::filesystem::path> removed;  // no live writer (with dry_run: to be removed)
  std::vector<std::filesystem::path> live;     // locked by a running writer: left alone
  std::vector<std::pair<std::filesystem::path, std::string>> failed;  // and why
};

// Removes the temporary files of `final_path` that no live AtomicFile holds (see Liveness).
// Only ever touches names for which IsTemporaryOf(final_path, name) holds, in the final path's
// directory, that are regular files (not symlinks) of the calling user; anything else is left
// alone and not reported. With dry_run, only reports.
// Thread-safety: safe against any number of concurrent writers and sweeps, in any processes.
[[nodiscard]] TemporarySweep SweepTemporaries(const std::filesystem::path& final_path,
                                              bool dry_run = false);

}  // namespace zcpipe::stages
