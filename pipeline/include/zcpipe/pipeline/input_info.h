// InspectInput: what an import would read an input file as, without importing it.
#pragma once

#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/csv_dialect.h"
#include "zcpipe/stages/schema.h"

namespace zcpipe {

// The format `config` reads: its own, or its input's extension's (.jsonl, .ndjson, .json: JSON
// Lines; else CSV).
[[nodiscard]] InputFormat ResolvedFormat(const JobConfig& config);

struct InputInfo {
  InputFormat format = InputFormat::kCsv;          // resolved: kCsv or kJsonl
  std::optional<stages::CsvDialect> dialect = {};  // CSV: given or sniffed
  stages::Schema schema = {};                      // given or inferred (before any transform)
};

// What Job::Start(config) would read config.input as: its format, the dialect and schema its
// first chunk (config.chunk_size bytes) says, as the job works them out (JobConfig's dialect
// fields, the sniffer, schema inference). Reads the first chunk only (standard input: consumes
// it). Errors: a message naming the input (cannot be read, an empty input with no schema, a
// schema column not in the header...).
[[nodiscard]] tl::expected<InputInfo, std::string> InspectInput(const JobConfig& config);

}  // namespace zcpipe
