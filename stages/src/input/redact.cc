// Redactor: which columns a job protects, and its rejected rows echoed without them.
#include "zcpipe/stages/redact.h"

#include <algorithm>
#include <stdexcept>

#include <simdjson.h>

#include "csv/csv_scan.h"
#include "csv/record_splitter.h"
#include "jsonl/jsonl_detail.h"
#include "transform/transform_plan.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::stages {
namespace {

namespace od = simdjson::ondemand;

constexpr char kValueWithheld[] = "(value withheld: the column is protected)";
constexpr char kDetailWithheld[] = "(withheld: the row holds protected columns)";

// A value as a parser reads it from text: null, or a string.
using Text = std::optional<std::string>;

// An 8-byte-aligned buffer for a batch (WriteBatch and Apply want their block so aligned).
class Block {
 public:
  explicit Block(std::size_t bytes) : words_((bytes + 7) / 8) {}
  std::span<std::byte> bytes() { return std::as_writable_bytes(std::span(words_)); }

 private:
  std::vector<std::uint64_t> words_;
};

// Runs `transform` on one row of one string column `name` holding `value`: the string (or
// null) it yields, or nothing when it rejects the row or yields something else.
std::optional<Text> RunOnOne(const Transform& transform, const std::string& name,
                             const Text& value) {
  ColumnBuffer column(name, ColumnType::kString);
  value ? column.AppendString(*value) : column.AppendNull();
  const std::span<const ColumnBuffer> columns(&column, 1);
  Block in(BatchSizeBound(columns, 1));
  const auto batch = WriteBatch(in.bytes(), {}, columns, {});
  if (!batch) return std::nullopt;
  const auto view = BatchView::Open(*batch);
  if (!view) return std::nullopt;
  Block out(2 * batch->size() + 4096);  // a hash is 64 bytes, a mask no longer than its value
  InputErrors rejected;
  const auto result = transform.Apply(*view, out.bytes(), rejected);
  if (!result || result->rows_out != 1) return std::nullopt;
  const auto output = BatchView::Open(result->batch);
  if (!output || output->column_count() != 1) return std::nullopt;
  const ColumnView made = output->column(0);
  if (made.type() != ColumnType::kString) return std::nullopt;
  return made.is_null(0) ? Text{} : Text{std::string(made.string(0))};
}

// A CSV field's value as CsvParser reads it (an empty unquoted field is null), or nothing when
// its quoting is malformed.
std::optional<Text> Unquote(std::string_view field, char quote) {
  std::string scratch;
  std::string_view value;
  bool quoted = false;
  if (detail::DecodeField(field, quote, false, scratch, value, quoted)) return std::nullopt;
  if (value.empty() && !quoted) return Text{};
  return Text{std::string(value)};
}

// The column a list item of a built-in spec names: "name" or "name:option".
std::string_view NameIn(std::string_view part) {
  return detail::Trim(part.substr(0, part.find(':')));
}

}  // namespace

struct Redactor::Column {
  std::string name;                    // in the parsed schema
  std::unique_ptr<Transform> typed;    // a cast from text to its parsed type, then its steps
  std::unique_ptr<Transform> untyped;  // its steps without the casts

  // Its value after its steps, from its value as read: what the container holds for it, or
  // (a value that does not convert) the same steps on its text.
  [[nodiscard]] std::optional<Text> Protect(const Text& text) const {
    if (auto value = RunOnOne(*typed, name, text)) return value;
    return RunOnOne(*untyped, name, text);
  }
};

Redactor::Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;
Redactor::~Redactor() = default;

Redactor::Redactor(const Transform* transform, const Schema& parsed, RowFormat format)
    : format_(std::move(format)), parsed_(parsed) {
  if (transform == nullptr) return;
  const std::vector<TransformStep>& recipe = transform->recipe();
  if (recipe.empty()) {  // a user Transform: it may protect anything
    everything_ = true;
    return;
  }
  // Each input column followed through the recipe: its name at each step, its own steps.
  struct Track {
    std::string current;
    std::vector<std::string> names;
    std::vector<const TransformStep*> steps;
    std::vector<std::string> parts;  // the part of each step's spec about this column
    bool dropped = false;
    bool hidden = false;  // hashed or masked
  };
  std::vector<Track> tracks;
  for (const auto& column : parsed.columns())
    tracks.push_back({column.name, {column.name}, {}, {}});
  static constexpr std::string_view kReadable[] = {"select", "rename", "cast",
                                                   "filter", "hash",   "mask"};
  for (const TransformStep& step : recipe) {
    if (std::find(std::begin(kReadable), std::end(kReadable), step.kind) == std::end(kReadable)) {
      everything_ = true;  // a registered kind: it may protect anything
      return;
    }
    if (step.kind == "filter") continue;
    const auto parts = detail::SplitList(step.spec);
    for (Track& track : tracks) {
      if (track.dropped) continue;
      const auto part = std::find_if(parts.begin(), parts.end(), [&](std::string_view p) {
        return NameIn(p) == track.current;
      });
      if (step.kind == "select") {
        track.dropped = part == parts.end();
        continue;
      }
      if (part == parts.end()) continue;
      track.steps.push_back(&step);
      track.parts.emplace_back(*part);
      if (step.kind == "rename") {
        track.current = detail::Trim(part->substr(part->find(':') + 1));
        track.names.push_back(track.current);
      }
      track.hidden = track.hidden || step.kind == "hash" || step.kind == "mask";
    }
  }
  try {
    for (std::size_t c = 0; c < tracks.size(); ++c) {
      const Track& track = tracks[c];
      if (!track.hidden) continue;
      std::vector<std::unique_ptr<Transform>> typed, untyped;
      if (parsed[c].type != ColumnType::kString) {
        typed.push_back(std::make_unique<CastTransform>(std::vector<ColumnSpec>{parsed[c]}));
      }
      for (std::size_t i = 0; i < track.steps.size(); ++i) {
        const TransformStep& step = *track.steps[i];
        typed.push_back(ParseTransform(step.kind, track.parts[i], step.key_bytes()));
        if (step.kind != "cast") {
          untyped.push_back(ParseTransform(step.kind, track.parts[i], step.key_bytes()));
        }
      }
      columns_.push_back({parsed[c].name, std::make_unique<TransformChain>(std::move(typed)),
                          std::make_unique<TransformChain>(std::move(untyped))});
      protected_names_.insert(protected_names_.end(), track.names.begin(), track.names.end());
    }
  } catch (const std::invalid_argument&) {  // a spec that does not read as it did: be safe
    everything_ = true;
    columns_.clear();
  }
}

bool Redactor::protects() const { return everything_ || !columns_.empty(); }

const Redactor::Column* Redactor::Find(std::string_view input_name) const {
  const auto it = std::find_if(columns_.begin(), columns_.end(),
                               [&](const Column& c) { return c.name == input_name; });
  return it == columns_.end() ? nullptr : &*it;
}

bool Redactor::DetailMayShowProtected(const InputError& row) const {
  switch (row.reason) {
    case InputErrc::kUnterminatedQuote:
    case InputErrc::kStrayQuote:
      return true;  // the field it quotes may run on into the next ones
    case InputErrc::kFieldCount:
    case InputErrc::kRecordTooLarge:
    case InputErrc::kPoison:
      if (row.column.empty()) return false;  // counts and sizes
      break;
    default:
      if (row.column.empty()) return true;  // a JSON token, or a string, of any key
      break;
  }
  return everything_ || std::find(protected_names_.begin(), protected_names_.end(), row.column) !=
                            protected_names_.end();
}

RawEcho Redactor::Redact(InputError& row) const {
  if (!protects()) return RawEcho::kAsRead;
  if (DetailMayShowProtected(row))
    row.detail = row.column.empty() ? kDetailWithheld : kValueWithheld;
  if (row.raw.empty()) return RawEcho::kAsRead;  // a transform's rejected row: no raw text
  // Quoting errors leave the field boundaries uncertain; a record too large may be cut short.
  const bool whole = !everything_ && row.reason != InputErrc::kUnterminatedQuote &&
                     row.reason != InputErrc::kStrayQuote &&
                     row.reason != InputErrc::kRecordTooLarge;
  auto rewritten = !whole ? std::nullopt : format_.csv ? RewriteCsv(row.raw) : RewriteJson(row.raw);
  if (!rewritten) {
    row.raw.clear();
    return RawEcho::kWithheld;
  }
  if (*rewritten == row.raw) return RawEcho::kAsRead;  // no protected value in it
  row.raw = std::move(*rewritten);
  return RawEcho::kRewritten;
}

std::optional<std::string> Redactor::RewriteCsv(std::string_view raw) const {
  std::vector<std::uint32_t> separators;
  const auto scan =
      detail::FindSeparators(raw.data(), raw.size(), format_.delimiter, format_.quote, separators);
  if (scan.ends_in_quote || separators.size() + 1 != format_.field_to_column.size()) {
    return std::nullopt;
  }
  std::string out;
  std::size_t begin = 0;
  for (std::size_t f = 0; f <= separators.size(); ++f) {
    const std::size_t end = f < separators.size() ? separators[f] : raw.size();
    if (end < raw.size() && raw[end] == '\n') return std::nullopt;  // more than one record
    const std::string_view field = raw.substr(begin, end - begin);
    begin = end + 1;
    const auto value = Unquote(field, format_.quote);
    if (!value) return std::nullopt;
    if (f > 0) out += format_.delimiter;
    const int c = format_.field_to_column[f];
    const Column* column = c < 0 ? nullptr : Find(parsed_[static_cast<std::size_t>(c)].name);
    if (column == nullptr) {
      out += field;
      continue;
    }
    const auto hidden = column->Protect(*value);
    if (!hidden) return std::nullopt;
    if (*hidden) AppendCsvString(**hidden, format_.delimiter, out);
  }
  return out;
}

std::optional<std::string> Redactor::RewriteJson(std::string_view raw) const {
  std::string_view json = raw;
  while (!json.empty() && jsonl::IsJsonSpace(json.front())) json.remove_prefix(1);
  while (!json.empty() && jsonl::IsJsonSpace(json.back())) json.remove_suffix(1);
  const simdjson::padded_string padded(json);
  const std::string_view text(padded.data(), padded.size());
  od::parser parser;
  od::document document;
  od::object object;
  if (json.empty() || jsonl::OpenObject(parser, padded, document, object)) return std::nullopt;
  std::string out(raw.substr(0, static_cast<std::size_t>(json.data() - raw.data())));
  std::size_t copied = 0;  // text[0, copied) is in `out`
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return std::nullopt;
    od::value value = field.value();
    const Column* column = Find(key);
    od::json_type kind{};
    if (column == nullptr || value.type().get(kind) || kind == od::json_type::null) {
      if (jsonl::Validate(value, 1)) return std::nullopt;
      continue;  // not protected, or null (which stays null)
    }
    // The value as JsonlParser reads it into a string: a string unescaped, another scalar as
    // its token, an array or object as its text.
    std::string_view extent, string;
    if (kind == od::json_type::array) {
      od::array array;
      if (value.get_array().get(array) || array.raw_json().get(extent)) return std::nullopt;
    } else if (kind == od::json_type::object) {
      od::object nested;
      if (value.get_object().get(nested) || nested.raw_json().get(extent)) return std::nullopt;
    } else {
      extent = jsonl::Token(value);
      if (kind == od::json_type::string ? value.get_string().get(string) != simdjson::SUCCESS
                                        : jsonl::Validate(value, 1).has_value()) {
        return std::nullopt;
      }
    }
    while (!extent.empty() && jsonl::IsJsonSpace(extent.back())) extent.remove_suffix(1);
    const auto hidden =
        column->Protect(std::string(kind == od::json_type::string ? string : extent));
    if (!hidden) return std::nullopt;
    const auto at = static_cast<std::size_t>(extent.data() - text.data());
    out.append(text.substr(copied, at - copied));
    if (*hidden) {
      AppendJsonString(**hidden, out);
    } else {
      out += "null";
    }
    copied = at + extent.size();
  }
  if (jsonl::CheckEnd(document, text)) return std::nullopt;
  out.append(text.substr(copied));
  out.append(raw.substr(static_cast<std::size_t>(json.data() - raw.data()) + json.size()));
  return out;
}

}  // namespace zcpipe::stages
