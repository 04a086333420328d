#include "verify_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "credential_options.h"
#include "diagnostics.h"
#include "exit_codes.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::cli {

void AddVerifyCommand(CLI::App& app, int& exit_code) {
  auto* verify = app.add_subcommand(
      "verify", "Check that a .zcp container is whole and authentic (every chunk, with its key)");
  verify->footer(
      "Exit code 0: authentic and complete; 4: tampered, truncated, reordered... Example:\n"
      "  zcpipe verify orders.zcp --key-file orders.key");
  auto path = std::make_shared<std::string>();
  auto key = std::make_shared<CredentialOptions>();
  verify->add_option("CONTAINER", *path, "The .zcp file")->required();
  AddCredentialOptions(*verify, *key);
  verify->callback([path, key, &exit_code] {
    const auto credential = ReadCredential(*key, exit_code);
    if (!credential) return;
    auto reader = stages::ContainerReader::Open(*path, *credential);
    std::uint64_t chunks = 0;
    std::uint64_t bytes = 0;
    stages::ContainerResult<std::optional<stages::ContainerChunk>> chunk;
    if (!reader) chunk = tl::unexpected(reader.error());
    while (reader && (chunk = reader->Next()) && *chunk) {
      ++chunks;
      bytes += (*chunk)->plaintext.size();
    }
    if (!chunk) {
      PrintError(*path + ": " + Describe(chunk.error()));
      exit_code = ExitCodeFor(chunk.error());
      return;
    }
    std::cout << *path << ": ok, " << chunks << " chunks, " << bytes << " bytes verified\n";
    exit_code = kOk;
  });
}

}  // namespace zcpipe::cli
