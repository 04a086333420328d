#include "import_error.h"

#include "output_error_kind.h"
#include "zcpipe/stages/chunker.h"

namespace zcpipe::detail {

JobErrors::JobErrors(std::uint64_t job, const JobConfig& config)
    : job_(job), config_(config), input_name_(stages::InputName(config.input.string())) {}

ErrorEvent JobErrors::Make(ErrorKind kind, Stage stage, std::string reason,
                           std::string message) const {
  ErrorEvent error;
  error.job = job_;
  error.kind = kind;
  error.stage = stage;
  error.file = input_name_;
  error.reason = std::move(reason);
  // Every message names a file of the job: the input, before one that names none.
  const auto names = [&message](const std::filesystem::path& path) {
    return !path.empty() && message.find(path.string()) != std::string::npos;
  };
  if (!names(error.file) && !names(config_.output) && !names(config_.rejects) &&
      !names(config_.trace)) {
    message = error.file + ": " + message;
  }
  error.message = std::move(message);
  return error;
}

ErrorEvent JobErrors::FromInput(const stages::InputError& input, std::uint64_t chunk) const {
  ErrorEvent error = Make(ErrorKind::kInput, Stage::kParse, stages::Name(input.reason),
                          input_name_ + ":" + std::to_string(input.line) + ": " + input.Describe());
  error.chunk = chunk;
  error.line = input.line;
  error.byte_offset = input.byte_offset;
  error.raw = input.raw;
  return error;
}

ErrorEvent JobErrors::Write(const std::filesystem::path& path,
                            const stages::ContainerError& error) const {
  return Make(OutputErrorKind(error, ErrorKind::kStage), Stage::kWrite, stages::Name(error.code),
              path.string() + ": " + stages::Describe(error));
}

}  // namespace zcpipe::detail
