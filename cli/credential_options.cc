#include "credential_options.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <iostream>
#include <system_error>

#include <tl/expected.hpp>

#include "diagnostics.h"
#include "exit_codes.h"

namespace zcpipe::cli {
namespace {

constexpr std::size_t kMaxPassphrase = 1024;

// The first line from `fd` (without its end of line), into a buffer that wipes itself.
tl::expected<stages::SecretBytes, std::string> ReadLine(int fd) {
  stages::SecretBytes buffer(kMaxPassphrase);
  std::size_t size = 0;
  while (size < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.span().data() + size, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return tl::unexpected("cannot read the passphrase: " +
                            std::generic_category().message(errno));
    if (n == 0 || buffer.span()[size] == std::byte{'\n'}) break;
    ++size;
  }
  if (size > 0 && buffer.span()[size - 1] == std::byte{'\r'}) --size;
  if (size == 0) return tl::unexpected(std::string("empty passphrase"));
  return stages::SecretBytes::CopyOf(buffer.span().first(size));
}

// The terminal settings to restore if a signal ends the process during the prompt.
int g_prompt_tty = -1;
termios g_prompt_saved{};

void RestoreTerminalAndDie(int signal) {  // async-signal-safe calls only
  (void)::tcsetattr(g_prompt_tty, TCSAFLUSH, &g_prompt_saved);
  (void)!::write(g_prompt_tty, "\n", 1);
  std::signal(signal, SIG_DFL);
  (void)std::raise(signal);
}

// Asks on the controlling terminal with echo off (restored also when Ctrl-C ends the prompt).
tl::expected<stages::SecretBytes, std::string> AskOnTerminal(std::string_view prompt) {
  const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    return tl::unexpected(std::string("--passphrase needs a terminal; use --passphrase-fd"));
  }
  termios saved{};
  const bool is_terminal = ::tcgetattr(tty, &saved) == 0;
  constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous[3]{};
  if (is_terminal) {
    g_prompt_tty = tty;
    g_prompt_saved = saved;
    struct sigaction restore {};
    restore.sa_handler = RestoreTerminalAndDie;
    sigemptyset(&restore.sa_mask);
    for (int i = 0; i < 3; ++i) (void)::sigaction(kSignals[i], &restore, &previous[i]);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    (void)::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  (void)!::write(tty, prompt.data(), prompt.size());
  auto line = ReadLine(tty);
  if (is_terminal) {
    (void)::tcsetattr(tty, TCSAFLUSH, &saved);
    for (int i = 0; i < 3; ++i) (void)::sigaction(kSignals[i], &previous[i], nullptr);
  }
  (void)!::write(tty, "\n", 1);
  ::close(tty);
  return line;
}

// AskOnTerminal, twice when `confirm`: the two must be equal.
tl::expected<stages::SecretBytes, std::string> AskPassphrase(bool confirm) {
  auto passphrase = AskOnTerminal("Passphrase: ");
  if (!passphrase || !confirm) return passphrase;
  auto again = AskOnTerminal("Passphrase again: ");
  if (!again) return again;
  if (!stages::SecretsEqual(passphrase->span(), again->span())) {
    return tl::unexpected(std::string("the passphrases differ: nothing was written"));
  }
  return passphrase;
}

}  // namespace

void AddCredentialOptions(CLI::App& command, CredentialOptions& options) {
  auto* group = command.add_option_group("key", "How to unlock the container (exactly one)");
  group->add_option("-k,--key-file", options.key_file, "32-byte key file (zcpipe keygen)");
  group->add_option("--passphrase-fd", options.passphrase_fd,
                    "Read the passphrase (its first line) from this file descriptor");
  group->add_flag("--passphrase", options.ask_passphrase, "Ask for a passphrase on the terminal");
  group->require_option(1);
  command.add_flag("--allow-insecure-key-file", options.allow_insecure_key_file,
                   "Accept key files that group or others can access (refused otherwise)");
  command
      .add_option("--max-kdf-memory", options.max_kdf_memory,
                  "Most memory a container's passphrase derivation (scrypt) may take to open it "
                  "(default 256MiB; the format allows up to 1GiB)")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->option_text("SIZE");
}

std::shared_ptr<const stages::Credential> ReadCredential(const CredentialOptions& options,
                                                         int& exit_code) {
  if (!options.key_file.empty()) {
    std::string warning;
    auto key = stages::ReadKeyFile(
        options.key_file, {.allow_insecure_mode = options.allow_insecure_key_file}, &warning);
    if (!key) {
      PrintError(options.key_file + ": " + Describe(key.error()));
      exit_code = ExitCodeFor(key.error());
      return nullptr;
    }
    if (!warning.empty()) std::cerr << "zcpipe: warning: " << warning << '\n';
    return std::make_shared<const stages::Credential>(stages::Credential::FromKey(std::move(*key)));
  }
  auto passphrase = options.ask_passphrase ? AskPassphrase(options.confirm_passphrase)
                                           : ReadLine(options.passphrase_fd);
  if (!passphrase) {
    PrintError(passphrase.error());
    exit_code = kInputError;
    return nullptr;
  }
  const auto bytes = passphrase->span();
  return std::make_shared<const stages::Credential>(stages::Credential::FromPassphrase(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), {},
      options.max_kdf_memory));
}

}  // namespace zcpipe::cli
