// One line of the rejects file (quarantine). Private to zcpipe::pipeline.
#pragma once

#include <string>
#include <string_view>

#include "zcpipe/stages/input_error.h"
#include "zcpipe/stages/redact.h"

namespace zcpipe::detail {

// The rejects-file line for `row`, rejected from `file` and already redacted (`echo` says how):
// one JSON object and a newline, valid JSON whatever the bytes:
//   {"file":..,"line":N,"byte":N,"reason":..,"column":..,"detail":..,"raw":..}
// A string field that is not UTF-8 (a file name, a row in another encoding) is written as
// "<field>_base64" instead, its exact bytes in standard base64 (RFC 4648, padded). A raw row
// whose protected fields were replaced adds "raw_redacted":"fields"; one withheld has no raw
// field and "raw_redacted":"row".
[[nodiscard]] std::string RejectsLine(std::string_view file, const stages::InputError& row,
                                      stages::RawEcho echo);

}  // namespace zcpipe::detail
