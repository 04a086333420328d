// AtomicFile: write a new file under a temporary name, then publish it whole. Private to
// zcpipe::stages (used by the container writer, DecryptFile and GenerateKeyFile).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "zcpipe/stages/container_error.h"

namespace zcpipe::stages::container_detail {

// A file being written as "<dir>/.<name>.tmp-XXXXXX" (mkostemp: O_EXCL, mode 0600) next to
// its final path "<dir>/<name>". Commit() fsyncs it, renames it to the final path (without
// replacing an existing file unless asked: RENAME_NOREPLACE, or link+unlink where the file
// system lacks it) and fsyncs the directory. Until Commit succeeds, destroying the AtomicFile
// closes and unlinks the temporary file; after any failure of Commit, nothing is left under
// the final name.
//
// Ownership: owns the descriptor and the temporary name. Move-only.
// Thread-safety: one thread at a time.
class AtomicFile {
 public:
  // Creates the temporary file. When !replace_existing and something (even a dangling symlink)
  // already has the final name, fails early with kAlreadyExists; Commit checks again,
  // atomically. Errors: kInvalidArgument (no file name), kAlreadyExists, kIo.
  [[nodiscard]] static ContainerResult<AtomicFile> Create(const std::filesystem::path& final_path,
                                                          bool replace_existing);

  // Takes over the temporary file of an earlier AtomicFile for the same final path (its process
  // died before Commit), cut back to its first `size` bytes, to append after them.
  // Errors: kIo (missing, or shorter than `size`), kAlreadyExists as Create.
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
  // Closes the temporary file and leaves it in place, for a later Resume; this AtomicFile then
  // owns nothing. REQUIRES: not committed.
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

}  // namespace zcpipe::stages::container_detail
