// Journal: the durable record of how far an import into a .zcp file got, so that `resume` can
// continue it after a crash. Private to zcpipe::pipeline.
//
// A text file next to the output (".NAME.journal"): seven lines describing the import, then one
// line per commit point, each written and fsynced whole after the container's frames up to it
// were fsynced. A torn last line (a crash mid-write) is ignored: the point before it holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace zcpipe::detail {

struct JournalHeader {
  std::string input;             // the input file, as given
  std::uint64_t input_size = 0;  // and its size and modification time: a changed input
  std::int64_t input_mtime = 0;  // cannot be resumed (nanoseconds)
  std::uint64_t chunk_size = 0;
  std::string temp_path;          // the container's temporary file
  std::string rejects_temp_path;  // the rejects file's (quarantine), or empty
  // What decides the frames' plaintext besides the input (SettingsDigest::ToLine): a resume
  // must match it, or it would seal other plaintext under indices (nonces) already used.
  std::string settings;
};

// Everything needed to continue after the last chunk that reached the container.
struct JournalPoint {
  std::uint64_t input_byte = 0;  // where the next chunk starts
  std::uint64_t next_line = 1;
  std::uint64_t chunks = 0;  // chunks done (the next chunk's index)
  std::uint64_t frames = 0;  // container frames written
  std::uint64_t container_bytes = 0;
  std::uint64_t rows_in = 0, rows_out = 0, rows_rejected = 0, rows_filtered = 0;
  std::uint64_t rejects_bytes = 0;  // of the rejects file (quarantine), flushed before the point
};

class Journal {
 public:
  static std::filesystem::path PathFor(const std::filesystem::path& output);
  // The input's identity now, for a header.
  static std::optional<JournalHeader> Describe(const std::filesystem::path& input,
                                               std::uint64_t chunk_size);

  // Starts a journal at `path` (removing whatever has that name: a symlink there is removed, its
  // target untouched), with `header` and `point`; a new 0600 file (O_EXCL, O_NOFOLLOW). nullopt
  // when the file cannot be written (the import then runs without one).
  static std::optional<Journal> Create(const std::filesystem::path& path,
                                       const JournalHeader& header, const JournalPoint& point);
  // The header and last complete point of the journal at `path`, if there is a valid one: a
  // regular file of the calling user (not a symlink). What it names is still to be checked
  // (stages::AtomicFile::Resume takes only a temporary file of the output).
  static std::optional<std::pair<JournalHeader, JournalPoint>> Load(
      const std::filesystem::path& path);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();

  // Appends `point` durably. Returns false if it could not (the journal is then stale).
  bool Append(const JournalPoint& point);
  // Deletes the journal (the import finished, failed or was cancelled).
  void Remove();

 private:
  Journal(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

}  // namespace zcpipe::detail
