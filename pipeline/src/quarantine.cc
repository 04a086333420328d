#include "quarantine.h"

#include "rejects_line.h"

namespace zcpipe::detail {

ImportResult<Quarantine> Quarantine::Open(const JobErrors& errors,
                                          const std::filesystem::path& path, bool replace_existing,
                                          const std::filesystem::path& resume_temp,
                                          std::uint64_t resume_size) {
  // Resuming, what the point covers stays; the rows rejected after it are rejected again.
  auto file = resume_temp.empty()
                  ? RejectsFile::Create(path, replace_existing)
                  : RejectsFile::Resume(path, resume_temp, replace_existing, resume_size);
  if (!file) {
    return tl::unexpected(
        errors.Make(ErrorKind::kInitialization, Stage::kWrite,
                    resume_temp.empty() ? stages::Name(file.error().code) : "cannot resume",
                    path.string() + ": " + stages::Describe(file.error())));
  }
  return Quarantine(std::move(*file), errors.input_name());
}

stages::ContainerStatus Quarantine::Append(const stages::InputError& row, stages::RawEcho echo) {
  return file_.Append(RejectsLine(input_name_, row, echo));
}

}  // namespace zcpipe::detail
