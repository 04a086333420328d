// The options that say how to unlock a container, shared by `run`, `export` and `verify`:
// a key file, or a passphrase read from a file descriptor or asked on the terminal — never
// from the command line itself.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "zcpipe/stages/key.h"

namespace zcpipe::cli {

struct CredentialOptions {
  std::string key_file;
  int passphrase_fd = -1;
  bool ask_passphrase = false;
  bool allow_insecure_key_file = false;  // --allow-insecure-key-file, for every key file read
  std::uint64_t max_kdf_memory = stages::kDefaultMaxKdfMemory;  // --max-kdf-memory
  // Set by a command that makes a new container (run): --passphrase is asked twice, and a
  // mismatch is refused, so that a typo cannot lock the data away.
  bool confirm_passphrase = false;
};

// Adds --key-file, --passphrase-fd and --passphrase (mutually exclusive; one is required), and
// --allow-insecure-key-file and --max-kdf-memory, to `command`. `options` must outlive the parse.
void AddCredentialOptions(CLI::App& command, CredentialOptions& options);

// The credential the options name; null after printing the error (unreadable key file, empty
// passphrase, no terminal to ask on, a confirmation that differs) and setting `exit_code`.
[[nodiscard]] std::shared_ptr<const stages::Credential> ReadCredential(
    const CredentialOptions& options, int& exit_code);

}  // namespace zcpipe::cli
