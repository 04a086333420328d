#include "export_command.h"

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "choice_option.h"
#include "credential_options.h"
#include "diagnostics.h"
#include "exit_codes.h"
#include "interrupt_watcher.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/export.h"

namespace zcpipe::cli {
namespace {

struct ExportArgs {
  std::string input;
  std::string output;
  stages::ExportOptions options;
  CredentialOptions key;
};

}  // namespace

void AddExportCommand(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("export", "Decrypt a .zcp container to CSV or JSON Lines");
  command->footer(
      "The output appears only once every chunk verified (`-o -`: streamed to stdout). Examples:\n"
      "  zcpipe export orders.zcp --to csv -o orders.csv --key-file orders.key\n"
      "  zcpipe export orders.zcp --to jsonl -o - --passphrase-fd 3 3<pass.txt");
  auto args = std::make_shared<ExportArgs>();
  command->add_option("CONTAINER", args->input, "The .zcp file")->required();
  Choices<stages::ExportFormat>(
      command->add_option("--to", args->options.format, "Output format"),
      {{"csv", stages::ExportFormat::kCsv}, {"jsonl", stages::ExportFormat::kJsonl}})
      ->required();
  command->add_option("-o,--output", args->output, "Output file, or - for stdout")->required();
  command->add_option("--delimiter", args->options.delimiter, "CSV field delimiter");
  command->add_flag_callback(
      "--no-header", [args] { args->options.header = false; }, "CSV: no line of column names");
  command->add_flag("-f,--force", args->options.replace_existing, "Replace an existing output");
  AddCredentialOptions(*command, args->key);
  command->callback([args, &exit_code] {
    if (!stages::IsCsvDelimiter(args->options.delimiter)) {
      PrintError("--delimiter: cannot be a quote, CR, LF or NUL");  // ExportFile would refuse
      exit_code = kUsage;
      return;
    }
    if (args->output != "-" && stages::SameFile(args->input, args->output)) {
      PrintError(args->output + ": the output is the container");  // ExportFile would refuse
      exit_code = kUsage;
      return;
    }
    const auto credential = ReadCredential(args->key, exit_code);
    if (!credential) return;
    // Ctrl-C stops the export between chunks, so that its temporary file goes too.
    InterruptWatcher::BlockInterrupts();
    std::atomic<bool> cancel{false};
    const InterruptWatcher watcher([&cancel] { cancel.store(true); });
    auto options = args->options;
    options.cancel = &cancel;
    auto exported = stages::ExportFile(args->input, args->output, *credential, options);
    if (!exported && exported.error().code == stages::ContainerErrc::kCancelled) {
      std::cerr << "zcpipe: interrupted: the export was cancelled"
                << (args->output == "-" ? "\n" : ", no output was published\n");
      exit_code = kInterrupted;
      return;
    }
    if (!exported) {
      PrintError(args->input + ": " + Describe(exported.error()));
      exit_code = ExitCodeFor(exported.error());
      return;
    }
    exit_code = kOk;
  });
}

}  // namespace zcpipe::cli
