#include "transform_options.h"

#include <iostream>
#include <map>
#include <stdexcept>

#include "zcpipe/stages/key.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::cli {
namespace {

struct Kind {
  const char* name;
  const char* help;
};
constexpr Kind kKinds[] = {
    {"select", "Keep these columns, in this order: id,amount"},
    {"rename", "Rename columns: old:new,old2:new2"},
    {"cast", "Change column types: amount:float64,id:string"},
    {"filter", "Keep the rows where this holds: \"amount >= 10 and country == 'DE'\""},
    {"hash", "Replace columns by their HMAC-SHA-256 (needs --hash-key-file): email,phone"},
    {"mask", "Mask columns: card:keep_last=4,name"},
};

}  // namespace

void AddTransformOptions(CLI::App& command, TransformOptions& options) {
  for (const auto& kind : kKinds) {
    options.options.push_back(
        command.add_option(std::string("--") + kind.name, kind.help)
            ->group("Transforms (applied in command-line order, each repeatable)")
            ->type_name("SPEC")
            ->expected(1)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll));
  }
  command.add_option("--hash-key-file", options.hash_key_file, "32-byte key file for --hash")
      ->option_text("FILE")
      ->group("Transforms (applied in command-line order, each repeatable)");
}

std::shared_ptr<const stages::Transform> MakeTransform(const CLI::App& command,
                                                       const TransformOptions& options) {
  std::optional<stages::FileKey> hash_key;
  std::map<const CLI::Option*, std::size_t> used;  // occurrences consumed, per option
  std::vector<std::unique_ptr<stages::Transform>> transforms;
  for (const CLI::Option* option : command.parse_order()) {
    const auto found = std::find(options.options.begin(), options.options.end(), option);
    if (found == options.options.end()) continue;
    const char* kind = kKinds[found - options.options.begin()].name;
    const std::string& spec = option->results().at(used[option]++);
    if (std::string_view(kind) == "hash" && !hash_key) {
      if (options.hash_key_file.empty())
        throw std::invalid_argument("--hash needs --hash-key-file");
      std::string warning;
      auto key =
          stages::ReadKeyFile(options.hash_key_file, options.hash_key_file_options, &warning);
      if (!warning.empty()) std::cerr << "zcpipe: warning: " << warning << '\n';
      if (!key) {
        throw std::invalid_argument(options.hash_key_file + ": " + Describe(key.error()));
      }
      hash_key.emplace(std::move(*key));
    }
    transforms.push_back(stages::ParseTransform(
        kind, spec, hash_key ? hash_key->bytes() : std::span<const std::byte>{}));
  }
  if (transforms.empty()) return nullptr;
  if (transforms.size() == 1) return std::move(transforms.front());
  return std::make_shared<stages::TransformChain>(std::move(transforms));
}

}  // namespace zcpipe::cli
