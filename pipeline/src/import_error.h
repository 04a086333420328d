// The import's one error style: ImportResult<T>, whose error is the ErrorEvent the job reports,
// and JobErrors, which makes those events for one job. Private to zcpipe::pipeline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <tl/expected.hpp>

#include "zcpipe/pipeline/events.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/container_error.h"
#include "zcpipe/stages/input_error.h"

namespace zcpipe::detail {

// Every internal path of the import returns its failure as the ErrorEvent the job would report
// (kind = the exit code's class, stage, a short stable reason, a message naming the file). It
// becomes the job's error at one edge, Import::Fail, which publishes it and stops the job.
template <class T>
using ImportResult = tl::expected<T, ErrorEvent>;
using ImportStatus = ImportResult<void>;

// Makes one job's ErrorEvents: each names the job and its input, and its message names a file
// of the job (the input, unless it already names one).
//
// Ownership: borrows `config`, which must outlive it. Thread-safety: const, any thread.
class JobErrors {
 public:
  JobErrors(std::uint64_t job, const JobConfig& config);

  [[nodiscard]] ErrorEvent Make(ErrorKind kind, Stage stage, std::string reason,
                                std::string message) const;
  // A rejected row (`input`) of chunk `chunk`, as the job reports it.
  [[nodiscard]] ErrorEvent FromInput(const stages::InputError& input, std::uint64_t chunk) const;
  // Writing `path` (the output, rejects file or trace) failed with `error`.
  [[nodiscard]] ErrorEvent Write(const std::filesystem::path& path,
                                 const stages::ContainerError& error) const;

  // How messages name the input (stages::InputName).
  [[nodiscard]] const std::string& input_name() const { return input_name_; }

 private:
  const std::uint64_t job_;
  const JobConfig& config_;
  const std::string input_name_;
};

}  // namespace zcpipe::detail
