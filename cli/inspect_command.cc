#include "inspect_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "diagnostics.h"
#include "dialect_options.h"
#include "exit_codes.h"
#include "zcpipe/pipeline/input_info.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::cli {
namespace {

// An input file (CSV, JSON Lines): its format, dialect (CSV) and schema, as `run` reads it.
int InspectInputFile(const JobConfig& config) {
  const auto info = InspectInput(config);
  if (!info) {
    PrintError(info.error());
    return kInputError;
  }
  std::cout << "file:        " << stages::InputName(config.input.string()) << '\n'
            << "format:      " << (info->format == InputFormat::kCsv ? "csv" : "jsonl") << '\n';
  if (info->dialect) std::cout << "dialect:     " << DescribeDialect(*info->dialect) << '\n';
  std::cout << "schema:      " << info->schema.ToString() << '\n';
  return kOk;
}

}  // namespace

void AddInspectCommand(CLI::App& app, int& exit_code) {
  auto* inspect = app.add_subcommand(
      "inspect",
      "Show a .zcp container's header, schema and chunk count (no key needed), or how `run` "
      "would read an input file: its format, CSV dialect and schema");
  inspect->footer(
      "Nothing shown is authenticated: `zcpipe verify` checks the file with its key. A FILE "
      "that is not a container (and not named .zcp), or -, is read as `run` reads an input: "
      "the CSV dialect options override what is sniffed. Examples:\n"
      "  zcpipe inspect orders.zcp\n"
      "  zcpipe inspect rates.tsv");
  auto config = std::make_shared<JobConfig>();
  inspect->add_option("FILE", config->input, "The .zcp file, or an input file")->required();
  AddDialectOptions(*inspect, *config, "Input (an input file)");
  inspect->callback([config, &exit_code] {
    const std::string path = config->input.string();
    if (path == stages::kStandardInput) {
      exit_code = InspectInputFile(*config);
      return;
    }
    auto info = stages::Inspect(path);
    if (!info) {
      if (config->input.extension() != ".zcp") {
        exit_code = InspectInputFile(*config);
        return;
      }
      PrintError(path + ": " + Describe(info.error()));
      exit_code = ExitCodeFor(info.error());
      return;
    }
    const auto& header = info->header;
    std::cout << "file:        " << path << '\n'
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
