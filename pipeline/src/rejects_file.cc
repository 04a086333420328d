#include "rejects_file.h"

#include <span>
#include <utility>

namespace zcpipe::detail {
namespace {

constexpr std::size_t kBufferSize = 64 << 10;  // a write per 64 KiB of lines

stages::ContainerStatus Failed() {
  return tl::unexpected(stages::ContainerError{stages::ContainerErrc::kInvalidArgument,
                                               std::nullopt, std::nullopt, 0,
                                               "an earlier write of the rejects file failed"});
}

}  // namespace

stages::ContainerResult<RejectsFile> RejectsFile::Create(const std::filesystem::path& path,
                                                         bool replace_existing) {
  auto file = stages::AtomicFile::Create(path, replace_existing);
  if (!file) return tl::unexpected(file.error());
  return RejectsFile(std::move(*file));
}

stages::ContainerResult<RejectsFile> RejectsFile::Resume(const std::filesystem::path& path,
                                                         const std::filesystem::path& temp_path,
                                                         bool replace_existing,
                                                         std::uint64_t size) {
  auto file = stages::AtomicFile::Resume(path, temp_path, replace_existing, size);
  if (!file) return tl::unexpected(file.error());
  return RejectsFile(std::move(*file));
}

stages::ContainerStatus RejectsFile::Append(std::string_view line) {
  if (failed_) return Failed();
  buffer_ += line;
  return buffer_.size() >= kBufferSize ? Flush() : stages::ContainerStatus();
}

stages::ContainerStatus RejectsFile::Flush() {
  if (failed_) return Failed();
  auto written = file_.Write(std::as_bytes(std::span(buffer_)));
  if (!written) failed_ = true;
  buffer_.clear();
  return written;
}

stages::ContainerStatus RejectsFile::Sync() { return file_.Sync(); }

stages::ContainerStatus RejectsFile::Publish() {
  auto flushed = Flush();
  if (flushed) flushed = file_.Commit();
  if (!flushed) failed_ = true;
  return flushed;
}

}  // namespace zcpipe::detail
