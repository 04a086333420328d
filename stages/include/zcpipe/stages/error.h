// Errors of the stages layer, returned as values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <tl/expected.hpp>

namespace zcpipe::stages {

enum class StageErrc : std::uint8_t {
  kInvalidArgument,  // a caller broke a documented precondition
  kBatchTooLarge,    // the batch does not fit the arena block it is to be written into
  kMalformedBatch,   // bytes that claim to be a record batch are not a valid one
  kSchemaMismatch,   // a batch does not have the columns or types a stage expects
  kIo,               // reading or writing a file failed
  kBadEncoding,      // input bytes that are no character of its declared encoding
};

// What went wrong, for a program (code) and for a person (message).
struct StageError {
  StageErrc code;
  std::string message;
  // kBatchTooLarge: the bytes the batch needed, when known (0: unknown). Callers that split
  // their input to fit a block size the parts from it.
  std::size_t needed = 0;
};

template <class T>
using StageResult = tl::expected<T, StageError>;

inline tl::unexpected<StageError> StageFail(StageErrc code, std::string message) {
  return tl::unexpected<StageError>(StageError{code, std::move(message)});
}

}  // namespace zcpipe::stages
