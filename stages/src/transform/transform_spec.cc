// ParseTransform: built-in transforms from their command-line text.
#include "zcpipe/stages/transform_spec.h"

#include <charconv>
#include <map>
#include <mutex>
#include <stdexcept>

#include "transform/transform_plan.h"

namespace zcpipe::stages {
namespace {

using detail::SplitList;
using detail::Trim;

[[noreturn]] void Bad(std::string_view kind, const std::string& what) {
  throw std::invalid_argument(std::string(kind) + ": " + what);
}

// "a:b" → {"a", "b"}; both trimmed and non-empty.
std::pair<std::string, std::string> Pair(std::string_view kind, std::string_view part,
                                         std::string_view shape) {
  const auto colon = part.find(':');
  const auto left = Trim(part.substr(0, colon));
  const auto right =
      colon == std::string_view::npos ? std::string_view{} : Trim(part.substr(colon + 1));
  if (colon == std::string_view::npos || left.empty() || right.empty()) {
    Bad(kind, "expected " + std::string(shape) + ", got '" + std::string(part) + "'");
  }
  return {std::string(left), std::string(right)};
}

std::vector<std::string> Names(std::string_view kind, std::string_view spec) {
  std::vector<std::string> names;
  for (const auto part : SplitList(spec)) {
    if (part.empty()) Bad(kind, "empty column name in '" + std::string(spec) + "'");
    names.emplace_back(part);
  }
  return names;
}

std::unique_ptr<Transform> ParseRename(std::string_view spec) {
  std::vector<RenameTransform::Rename> renames;
  for (const auto part : SplitList(spec)) {
    auto [from, to] = Pair("rename", part, "old:new");
    renames.push_back({std::move(from), std::move(to)});
  }
  return std::make_unique<RenameTransform>(std::move(renames));
}

std::unique_ptr<Transform> ParseCast(std::string_view spec) {
  std::vector<ColumnSpec> casts;
  for (const auto part : SplitList(spec)) {
    auto [name, type_name] = Pair("cast", part, "column:type");
    const auto type = ParseType(type_name);
    if (!type) {
      Bad("cast",
          "unknown type '" + type_name + "' for column '" + name + "' (" + TypeNames() + ")");
    }
    casts.push_back({std::move(name), *type});
  }
  return std::make_unique<CastTransform>(std::move(casts));
}

std::unique_ptr<Transform> ParseMask(std::string_view spec) {
  std::vector<MaskTransform::Column> columns;
  for (const auto part : SplitList(spec)) {
    const auto colon = part.find(':');
    MaskTransform::Column column{std::string(Trim(part.substr(0, colon))), 0};
    if (column.name.empty()) Bad("mask", "empty column name in '" + std::string(spec) + "'");
    if (colon != std::string_view::npos) {
      const auto option = Trim(part.substr(colon + 1));
      constexpr std::string_view kKeepLast = "keep_last=";
      const auto number = Trim(option.substr(std::min(option.size(), kKeepLast.size())));
      const auto [end, ec] =
          std::from_chars(number.data(), number.data() + number.size(), column.keep_last);
      if (!option.starts_with(kKeepLast) || number.empty() || ec != std::errc() ||
          end != number.data() + number.size()) {
        Bad("mask", "expected '" + column.name + ":keep_last=N', got '" + std::string(part) + "'");
      }
    }
    columns.push_back(std::move(column));
  }
  return std::make_unique<MaskTransform>(std::move(columns));
}

std::unique_ptr<Transform> ParseHash(std::string_view spec, std::span<const std::byte> key) {
  if (key.size() != kHashKeySize) {
    Bad("hash", key.empty() ? "no key given (hashing needs the job's 32-byte key)"
                            : "the key must be 32 bytes, not " + std::to_string(key.size()));
  }
  return std::make_unique<HashTransform>(Names("hash", spec), key.first<kHashKeySize>());
}

struct KindRegistry {
  std::mutex mutex;
  std::map<std::string, TransformFactory, std::less<>> kinds;
};

KindRegistry& Kinds() {
  static KindRegistry registry;
  return registry;
}

std::unique_ptr<Transform> Make(std::string_view kind, std::string_view spec,
                                std::span<const std::byte> key) {
  if (kind == "select") return std::make_unique<SelectTransform>(Names("select", spec));
  if (kind == "rename") return ParseRename(spec);
  if (kind == "cast") return ParseCast(spec);
  if (kind == "filter") return std::make_unique<FilterTransform>(spec);
  if (kind == "hash") return ParseHash(spec, key);
  if (kind == "mask") return ParseMask(spec);
  TransformFactory factory;
  {
    std::lock_guard lock(Kinds().mutex);
    const auto it = Kinds().kinds.find(kind);
    if (it != Kinds().kinds.end()) factory = it->second;
  }
  if (!factory) {
    throw std::invalid_argument("unknown transform '" + std::string(kind) +
                                "' (select, rename, cast, filter, hash, mask, or registered)");
  }
  return factory(spec);
}

}  // namespace

std::unique_ptr<Transform> ParseTransform(std::string_view kind, std::string_view spec,
                                          std::span<const std::byte> key) {
  auto transform = Make(kind, spec, key);
  transform->recipe_ = {
      {std::string(kind), std::string(spec),
       key.empty() ? nullptr : std::make_shared<const SecretBytes>(SecretBytes::CopyOf(key))}};
  return transform;
}

bool RegisterTransformKind(const std::string& kind, TransformFactory factory) {
  static constexpr std::string_view kBuiltins[] = {"select", "rename", "cast",
                                                   "filter", "hash",   "mask"};
  for (const auto builtin : kBuiltins) {
    if (kind == builtin) throw std::invalid_argument("transform kind '" + kind + "' is built in");
  }
  std::lock_guard lock(Kinds().mutex);
  Kinds().kinds[kind] = std::move(factory);
  return true;
}

}  // namespace zcpipe::stages
