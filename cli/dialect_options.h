// The CSV dialect options of `zcpipe run` and `zcpipe inspect` (--delimiter, --quote, --header,
// --no-header, --strict, --decimal-comma): each one given overrides what is sniffed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "zcpipe/pipeline/job.h"

namespace zcpipe::cli {

// Adds the options to `command`, in `group`, setting `job`'s dialect fields. `job` must outlive
// the parse. A bad character (not one a CSV file can use there) fails the parse, naming it.
void AddDialectOptions(CLI::App& command, JobConfig& job, const std::string& group);

// The dialect line of `zcpipe inspect` and of messages: "delimiter tab (sniffed), quote '"'
// (default), escape '"', header yes (sniffed)".
[[nodiscard]] std::string DescribeDialect(const stages::CsvDialect& dialect);

}  // namespace zcpipe::cli
