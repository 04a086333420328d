// Import's set-up: Open and the parts it opens (import_impl.h).
#include <algorithm>
#include <stdexcept>

#include "arena_error.h"
#include "import_impl.h"
#include "output_error_kind.h"
#include "settings_digest.h"
#include "zcpipe/pipeline/input_info.h"

namespace zcpipe::detail {

ImportStatus Import::OpenChunker(const JournalPoint& from) {
  const bool csv = ResolvedFormat(config_) == InputFormat::kCsv;
  auto chunker = stages::Chunker::Open(config_.input, {.chunk_size = config_.chunk_size,
                                                       .quote = csv ? dialect_->quote : '\0',
                                                       .delimiter = csv ? dialect_->delimiter : ',',
                                                       .encoding = config_.encoding,
                                                       .start_byte = from.input_byte,
                                                       .start_line = from.next_line,
                                                       .start_index = from.chunks});
  if (!chunker) {
    return tl::unexpected(errors_.Make(ErrorKind::kInitialization, Stage::kRead,
                                       "cannot open input", chunker.error().message));
  }
  chunker_.emplace(std::move(*chunker));
  return {};
}

ImportStatus Import::Open() {
  std::error_code size_error;
  bytes_total_ = std::filesystem::file_size(config_.input, size_error);
  if (size_error) bytes_total_ = 0;  // standard input or a pipe: not known
  const bool csv = ResolvedFormat(config_) == InputFormat::kCsv;
  if (csv) {  // until SniffDialect
    dialect_ = stages::CsvDialect{.delimiter = config_.delimiter.value_or(','),
                                  .quote = config_.quote.value_or('"')};
  }
  if (auto opened = OpenChunker({}); !opened) return opened;
  const bool isolated = config_.placement == Placement::kIsolated;
  const ArenaPlan plan = ChunkArena::Plan(config_, Threads(), WorkerCount());
  if (config_.resources) {
    resources_.Take(*config_.resources, plan.pool, isolated, config_.transport, WorkerCount());
  }
  // Worker processes start (exec, load, attach their rings) meanwhile, on another core: a few
  // milliseconds each that would otherwise delay the first chunk. Should Open return early,
  // the future's destructor waits for the launch, and the workers are shut down.
  Launched launched;
  if (isolated && !resources_.workers()) {
    launched = std::async(std::launch::async, [this] {
      return IsolatedStages::Launch(errors_, WorkerCount(), config_.transport);
    });
  }
  if (!resources_.pool()) {
    auto pool = shm::BlockPool::Create(plan.pool);
    if (!pool) {
      return tl::unexpected(errors_.Make(
          IsOutOfSharedMemory(pool.error()) ? ErrorKind::kStage : ErrorKind::kInitialization,
          Stage::kRead, "cannot create arena",
          ArenaError("create the arena", config_.arena_size, pool.error())));
    }
    resources_.set_pool(std::make_unique<shm::BlockPool>(std::move(*pool)));
  }
  arena_.emplace(*resources_.pool(), plan, isolated, errors_, failed_, cancel_);

  // The first chunk decides the schema (header, inference).
  auto first_block = arena_->Allocate(Stage::kRead, 0);
  if (!first_block) {
    if (first_block.error().error) return tl::unexpected(std::move(*first_block.error().error));
    return {};  // cancelled meanwhile: the graph's Read stops at once
  }
  first_block_ = *first_block;
  if (auto read = ReadFirstChunk(plan.chunk_room); !read) return read;
  if (csv) {
    if (auto sniffed = SniffDialect(plan.chunk_room); !sniffed) return sniffed;
  }
  if (auto opened = OpenSchema(csv); !opened) return opened;
  if (!config_.output.empty()) {
    if (auto opened = OpenOutput(); !opened) return opened;
  }
  // (With an output, OpenOutput opened the rejects file, to record it in the journal.)
  if (config_.on_error == ErrorPolicy::kQuarantine && !quarantine_) {
    if (auto opened = OpenRejects({}); !opened) return opened;
  }
  if (!config_.trace.empty()) {
    if (auto opened = OpenTrace(); !opened) return opened;
  }
  if (isolated) return OpenWorkers(csv, launched);
  return {};
}

ImportStatus Import::ReadFirstChunk(std::size_t room) {
  auto first = chunker_->Next(arena_->Bytes(*first_block_).first(room));
  if (!first) {
    return tl::unexpected(errors_.Make(ErrorKind::kInitialization, Stage::kRead,
                                       "cannot read input", first.error().message));
  }
  const stages::Chunk empty{{}, 0, 1, 0};
  first_chunk_ = *first ? **first : empty;
  return {};
}

ImportStatus Import::OpenSchema(bool csv) {
  try {  // configuration: the parsers, schema and transform throw on what they cannot take
    std::optional<stages::CsvParser> csv_parser;
    stages::Schema parsed_schema;
    if (csv) {
      csv_parser = stages::CsvParser::Create({.delimiter = dialect_->delimiter,
                                              .header = dialect_->header,
                                              .schema = config_.schema,
                                              .quote = dialect_->quote,
                                              .strict = config_.strict,
                                              .decimal_comma = config_.decimal_comma},
                                             *first_chunk_);
      parsed_schema = csv_parser->schema();
    } else {
      parsed_schema =
          config_.schema ? *config_.schema : stages::JsonlParser::InferSchema(*first_chunk_);
    }
    parsed_schema_ = parsed_schema;
    output_schema_ =
        config_.transform ? config_.transform->OutputSchema(parsed_schema) : parsed_schema;
    // A schema of no columns (JSON Lines with no object to infer from) is none: nothing could
    // read the container back, and a worker could not make its parser. Both placements stop.
    if (parsed_schema.size() == 0) {
      throw std::invalid_argument(
          config_.schema      ? "the schema has no columns"
          : bytes_total_ == 0 ? "cannot infer a schema from an empty input: give one"
                              : "cannot infer a schema: no JSON object with a named key in the "
                                "first chunk: give one");
    }
    if (output_schema_.size() == 0) throw std::invalid_argument("the transform leaves no column");
    redactor_ = stages::Redactor(config_.transform.get(), parsed_schema,
                                 {csv, csv ? dialect_->delimiter : ',',
                                  csv_parser ? csv_parser->field_to_column() : std::vector<int>{},
                                  csv ? dialect_->quote : '\0'});
    parsers_.emplace([csv_parser, parsed_schema] {  // each thread's own parser
      AnyParser parser;
      if (csv_parser) {
        parser.csv = csv_parser;
      } else {
        parser.jsonl.emplace(stages::JsonlOptions{parsed_schema});
      }
      return parser;
    });
  } catch (const std::invalid_argument& e) {
    return tl::unexpected(errors_.Make(ErrorKind::kInitialization, Stage::kParse, "bad schema",
                                       errors_.input_name() + ": " + e.what()));
  }
  return {};
}

ImportStatus Import::OpenRejects(const std::filesystem::path& resume_temp) {
  auto quarantine = Quarantine::Open(errors_, config_.rejects, config_.replace_output, resume_temp,
                                     written_to_.rejects_bytes);
  if (!quarantine) return tl::unexpected(std::move(quarantine.error()));
  quarantine_.emplace(std::move(*quarantine));
  return {};
}

ImportStatus Import::OpenTrace() {
  auto file = stages::AtomicFile::Create(config_.trace, config_.replace_output);
  if (!file) {
    return tl::unexpected(
        errors_.Make(ErrorKind::kInitialization, Stage::kWrite, stages::Name(file.error().code),
                     config_.trace.string() + ": " + stages::Describe(file.error())));
  }
  trace_file_.emplace(std::move(*file));
  return {};
}

ImportStatus Import::OpenWorkers(bool csv, Launched& launched) {
  if (launched.valid()) {
    auto workers = launched.get();
    if (!workers) return tl::unexpected(std::move(workers.error()));
    resources_.set_workers(std::move(*workers));
  }
  isolated_ = std::make_unique<IsolatedStages>(config_, errors_, *arena_, *resources_.workers(),
                                               writer_ ? &*writer_ : nullptr, *this);
  return isolated_->Open({.csv = csv,
                          .dialect = csv ? *dialect_ : stages::CsvDialect{},
                          .parsed_schema = parsed_schema_,
                          .first_chunk = first_chunk_->bytes,
                          .encoding = chunker_->encoding(),
                          .first_frame = next_frame_,
                          .members = WorkerCount()},
                         *resources_.pool(), resources_.arena_attached());
}

ImportStatus Import::OpenOutput() {
  const stages::ContainerWriterOptions options{.schema = output_schema_.ToString(),
                                               .replace_existing = config_.replace_output};
  const auto journal_path = Journal::PathFor(config_.output);
  auto header = Journal::Describe(config_.input, config_.chunk_size);
  auto loaded = config_.resume ? Journal::Load(journal_path) : std::nullopt;
  JournalPoint point;
  const auto settings =
      SettingsDigest::Of(config_, ResolvedFormat(config_), parsed_schema_, dialect_);
  if (header) header->settings = settings.ToLine();
  const bool resuming = loaded && header && loaded->first.input == header->input &&
                        loaded->first.input_size == header->input_size &&
                        loaded->first.input_mtime == header->input_mtime &&
                        loaded->first.chunk_size == header->chunk_size;
  if (resuming) {
    if (auto refusal = ResumeRefusal(settings, loaded->first.settings)) {
      // The journal and the container stay, for a resume with the same settings.
      return tl::unexpected(errors_.Make(ErrorKind::kConfiguration, Stage::kWrite,
                                         "settings changed",
                                         config_.output.string() + ": " + *refusal));
    }
    point = loaded->second;
    auto writer = stages::ContainerWriter::Resume(config_.output, loaded->first.temp_path,
                                                  *config_.credential, options, point.frames,
                                                  point.container_bytes);
    if (!writer) {
      return tl::unexpected(errors_.Make(
          OutputErrorKind(writer.error(), ErrorKind::kInitialization), Stage::kWrite,
          "cannot resume", config_.output.string() + ": " + stages::Describe(writer.error())));
    }
    writer_.emplace(std::move(*writer));
    // Continue the input where the journal says the container ends.
    if (auto opened = OpenChunker(point); !opened) return opened;
    arena_->Release(*first_block_);  // the first chunk served the schema only; it is written
    first_block_.reset();
    rows_in_ = point.rows_in;
    rows_out_ = point.rows_out;
    rows_rejected_ = point.rows_rejected;
    rows_filtered_ = point.rows_filtered;
    chunks_done_ = point.chunks;
    next_frame_ = point.frames;
  } else {
    // Starting over: Create removes the stale temporary file (no live process holds it).
    auto writer = stages::ContainerWriter::Create(config_.output, *config_.credential, options);
    if (!writer) {
      return tl::unexpected(
          errors_.Make(OutputErrorKind(writer.error(), ErrorKind::kInitialization), Stage::kWrite,
                       stages::Name(writer.error().code),
                       config_.output.string() + ": " + stages::Describe(writer.error())));
    }
    writer_.emplace(std::move(*writer));
    point.container_bytes = writer_->bytes_written();
  }
  written_to_ = point;
  if (config_.on_error == ErrorPolicy::kQuarantine) {
    const auto opened = OpenRejects(resuming ? loaded->first.rejects_temp_path : std::string());
    if (!opened) return opened;
  }
  if (header) {
    header->temp_path = writer_->temp_path().string();
    if (quarantine_) header->rejects_temp_path = quarantine_->temp_path().string();
    if (auto journal = Journal::Create(journal_path, *header, point)) {
      committer_ = std::make_unique<JournalCommitter>(std::move(*journal), *writer_,
                                                      quarantine_ ? &*quarantine_ : nullptr,
                                                      config_.journal_interval);
    }
  }
  return {};
}

}  // namespace zcpipe::detail
