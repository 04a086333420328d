#include "journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <utility>

namespace zcpipe::detail {
namespace {

// 2: points record rejects_bytes; 3: the rejects file's temporary file; 4: the settings. An
// older journal is not loaded: its import starts over, in a new container (a new file salt,
// so new keys).
constexpr const char* kMagic = "zcpipe-journal 4";

bool WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0;
}

std::string Line(const JournalPoint& p) {
  std::ostringstream out;
  out << "point " << p.input_byte << ' ' << p.next_line << ' ' << p.chunks << ' ' << p.frames << ' '
      << p.container_bytes << ' ' << p.rows_in << ' ' << p.rows_out << ' ' << p.rows_rejected << ' '
      << p.rows_filtered << ' ' << p.rejects_bytes << " end\n";
  return out.str();
}

bool NoNewline(const std::string& text) { return text.find('\n') == std::string::npos; }

}  // namespace

std::filesystem::path Journal::PathFor(const std::filesystem::path& output) {
  return output.parent_path() / ("." + output.filename().string() + ".journal");
}

std::optional<JournalHeader> Journal::Describe(const std::filesystem::path& input,
                                               std::uint64_t chunk_size) {
  struct stat info {};
  if (::stat(input.c_str(), &info) != 0) return std::nullopt;
  return JournalHeader{
      input.string(),
      static_cast<std::uint64_t>(info.st_size),
      static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
      chunk_size,
      {},
      {},
      {}};
}

std::optional<Journal> Journal::Create(const std::filesystem::path& path,
                                       const JournalHeader& header, const JournalPoint& point) {
  if (!NoNewline(header.input) || !NoNewline(header.temp_path) ||
      !NoNewline(header.rejects_temp_path) || !NoNewline(header.settings)) {
    return std::nullopt;
  }
  // Whatever has the name goes (a symlink itself, never what it leads to), then a new file.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return std::nullopt;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return std::nullopt;
  Journal journal(fd, path);
  std::ostringstream text;
  text << kMagic << '\n'
       << header.input << '\n'
       << header.input_size << ' ' << header.input_mtime << ' ' << header.chunk_size << '\n'
       << header.temp_path << '\n'
       << header.rejects_temp_path << '\n'
       << header.settings << '\n'
       << Line(point);
  if (!WriteAll(fd, text.str())) {
    journal.Remove();
    return std::nullopt;
  }
  return journal;
}

std::optional<std::pair<JournalHeader, JournalPoint>> Journal::Load(
    const std::filesystem::path& path) {
  // Only the user's own regular file, never through a symlink: a journal names files to resume.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_uid == ::geteuid()) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  std::istringstream in(text);
  std::string magic, sizes, line;
  JournalHeader header;
  if (!std::getline(in, magic) || magic != kMagic || !std::getline(in, header.input) ||
      !std::getline(in, sizes) || !std::getline(in, header.temp_path) ||
      !std::getline(in, header.rejects_temp_path) || !std::getline(in, header.settings)) {
    return std::nullopt;
  }
  std::istringstream(sizes) >> header.input_size >> header.input_mtime >> header.chunk_size;
  std::optional<JournalPoint> last;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string word, end;
    JournalPoint p;
    fields >> word >> p.input_byte >> p.next_line >> p.chunks >> p.frames >> p.container_bytes >>
        p.rows_in >> p.rows_out >> p.rows_rejected >> p.rows_filtered >> p.rejects_bytes >> end;
    if (word == "point" && end == "end") last = p;  // a torn line has no "end"
  }
  if (!last) return std::nullopt;
  return std::pair{header, *last};
}

Journal::Journal(Journal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

bool Journal::Append(const JournalPoint& point) { return fd_ >= 0 && WriteAll(fd_, Line(point)); }

void Journal::Remove() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  ::unlink(path_.c_str());
}

}  // namespace zcpipe::detail
