#include "diagnostics.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace zcpipe::cli {

bool ColorOn(int fd) {
  const char* no_color = std::getenv("NO_COLOR");  // NOLINT(concurrency-mt-unsafe): no setenv
  return ::isatty(fd) == 1 && (no_color == nullptr || *no_color == '\0');
}

std::string ErrorLine(std::string_view message, bool color) {
  std::string line = color ? "zcpipe: \x1b[1;31merror:\x1b[0m " : "zcpipe: error: ";
  line += message;
  line += '\n';
  return line;
}

void PrintError(std::string_view message) {
  std::cerr << ErrorLine(message, ColorOn(STDERR_FILENO)) << std::flush;
}

}  // namespace zcpipe::cli
