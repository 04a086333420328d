// How zcpipe talks to people on stderr: "zcpipe: error: FILE:LINE: reason", in color only on a
// terminal and only when NO_COLOR is not set (https://no-color.org).
#pragma once

#include <string>
#include <string_view>

namespace zcpipe::cli {

// Whether to color output to descriptor `fd`: a terminal, and NO_COLOR unset or empty.
[[nodiscard]] bool ColorOn(int fd);

// "zcpipe: error: MESSAGE\n", "error" in red when `color`.
[[nodiscard]] std::string ErrorLine(std::string_view message, bool color);

// Writes ErrorLine(message, ColorOn(stderr)) to stderr. Thread-compatible.
void PrintError(std::string_view message);

}  // namespace zcpipe::cli
