#include "inspect_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "diagnostics.h"
#include "exit_codes.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::cli {

void AddInspectCommand(CLI::App& app, int& exit_code) {
  auto* inspect = app.add_subcommand(
      "inspect", "Show a .zcp container's header, schema and chunk count (no key needed)");
  inspect->footer(
      "Nothing shown is authenticated: `zcpipe verify` checks the file with its key. Example:\n"
      "  zcpipe inspect orders.zcp");
  auto path = std::make_shared<std::string>();
  inspect->add_option("CONTAINER", *path, "The .zcp file")->required();
  inspect->callback([path, &exit_code] {
    auto info = stages::Inspect(*path);
    if (!info) {
      PrintError(*path + ": " + Describe(info.error()));
      exit_code = ExitCodeFor(info.error());
      return;
    }
    const auto& header = info->header;
    std::cout << "file:        " << *path << '\n'
              << "version:     " << header.version << '\n'
              << "algorithm:   AES-256-GCM\n"
              << "key:         "
              << (header.key_source == stages::KeySource::kPassphrase ? "passphrase" : "key file");
    if (header.scrypt) {
      std::cout << " (scrypt N=2^" << header.scrypt->log2_n << " r=" << header.scrypt->r
                << " p=" << header.scrypt->p << ')';
    }
    std::cout << '\n'
              << "schema:      " << header.schema << '\n'
              << "chunks:      " << info->chunk_count << '\n'
              << "plaintext:   " << info->plaintext_bytes << " bytes\n"
              << "file size:   " << info->file_size << " bytes\n"
              << "(not verified: run `zcpipe verify` with the key)\n";
    exit_code = kOk;
  });
}

}  // namespace zcpipe::cli
