// The transform options of `zcpipe run` (--select, --rename, --cast, --filter, --hash, --mask),
// applied in the order they appear on the command line; each may be repeated.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "zcpipe/stages/key.h"
#include "zcpipe/stages/transform.h"

namespace zcpipe::cli {

struct TransformOptions {
  std::vector<const CLI::Option*> options;  // one per kind
  std::string hash_key_file;                // the HMAC key of --hash
  stages::KeyFileOptions hash_key_file_options;
};

// Adds the options to `command`. `options` must outlive the parse.
void AddTransformOptions(CLI::App& command, TransformOptions& options);

// The transforms given to `command`, in command-line order (a chain when several); null when
// none. Throws std::invalid_argument naming the bad option and spec (or a missing hash key).
[[nodiscard]] std::shared_ptr<const stages::Transform> MakeTransform(
    const CLI::App& command, const TransformOptions& options);

}  // namespace zcpipe::cli
