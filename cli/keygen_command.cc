#include "keygen_command.h"

#include <memory>
#include <string>

#include "diagnostics.h"
#include "exit_codes.h"
#include "zcpipe/stages/key.h"

namespace zcpipe::cli {

void AddKeygenCommand(CLI::App& app, int& exit_code) {
  auto* keygen = app.add_subcommand("keygen", "Write a new random 32-byte key file (mode 0600)");
  keygen->footer(
      "Never overwrites an existing file. Example:\n"
      "  zcpipe keygen -o orders.key");
  auto path = std::make_shared<std::string>();
  keygen->add_option("-o,--output", *path, "The key file to create")->required();
  keygen->callback([path, &exit_code] {
    auto written = stages::GenerateKeyFile(*path);
    if (!written) {
      PrintError(*path + ": " + Describe(written.error()));
      exit_code = ExitCodeFor(written.error());
      return;
    }
    exit_code = kOk;
  });
}

}  // namespace zcpipe::cli
