#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "container/container_format.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/export.h"

namespace zcpipe::stages {
namespace {

ContainerError NotBatches(std::uint64_t chunk, std::string message) {
  return {ContainerErrc::kNotRecordBatches, chunk, std::nullopt, 0, std::move(message)};
}

// Whether `batch` has exactly `schema`'s columns, names and types. Compared without building a
// Schema of the batch's columns: their names may repeat or not be UTF-8, which Schema refuses
// by throwing.
bool HasColumns(const BatchView& batch, const Schema& schema) {
  if (batch.column_count() != schema.size()) return false;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const ColumnView column = batch.column(i);
    if (column.name() != schema[i].name || column.type() != schema[i].type) return false;
  }
  return true;
}

// Where the text goes: a file published whole at the end, or standard output as it comes.
class Output {
 public:
  static ContainerResult<Output> Open(const std::filesystem::path& path, bool replace) {
    if (path == "-") return Output(std::nullopt);
    auto file = AtomicFile::Create(path, replace);
    if (!file) return tl::unexpected(file.error());
    return Output(std::move(*file));
  }
  ContainerStatus Write(const std::string& text) {
    if (file_) return file_->Write(std::as_bytes(std::span(text)));
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
      return tl::unexpected(ContainerError{ContainerErrc::kIo, std::nullopt, std::nullopt, errno,
                                           "writing to standard output"});
    }
    return {};
  }
  ContainerStatus Finish() {
    if (file_) return file_->Commit();
    if (std::fflush(stdout) != 0) {
      return tl::unexpected(ContainerError{ContainerErrc::kIo, std::nullopt, std::nullopt, errno,
                                           "writing to standard output"});
    }
    return {};
  }

 private:
  explicit Output(std::optional<AtomicFile> file) : file_(std::move(file)) {}
  std::optional<AtomicFile> file_;
};

}  // namespace

ContainerResult<ExportReport> ExportFile(const std::filesystem::path& in,
                                         const std::filesystem::path& out,
                                         const Credential& credential,
                                         const ExportOptions& options) {
  if (!IsCsvDelimiter(options.delimiter)) {
    return container_detail::Fail(ContainerErrc::kInvalidArgument,
                                  "the CSV delimiter cannot be a quote, CR, LF or NUL");
  }
  if (out != "-" && SameFile(in, out)) {
    return container_detail::Fail(ContainerErrc::kInvalidArgument, "the output is the container");
  }
  auto reader = ContainerReader::Open(in, credential);
  if (!reader) return tl::unexpected(reader.error());
  ExportReport report{0, 0, reader->header().schema};
  Schema schema;
  try {
    schema = Schema::Parse(report.schema);
  } catch (const std::invalid_argument& e) {
    return tl::unexpected(NotBatches(0, std::string("the header's schema: ") + e.what()));
  }
  auto output = Output::Open(out, options.replace_existing);
  if (!output) return tl::unexpected(output.error());

  const BatchFormatter formatter(options);
  std::string text;
  formatter.AppendHeader(schema, text);
  for (;;) {
    if (options.cancel != nullptr && options.cancel->load()) {
      return tl::unexpected(
          ContainerError{ContainerErrc::kCancelled, std::nullopt, std::nullopt, 0,
                         "stopped before chunk " + std::to_string(report.chunks)});
    }
    auto next = reader->Next();
    if (!next) return tl::unexpected(next.error());
    if (!*next) break;
    const ContainerChunk& chunk = **next;
    ++report.chunks;
    if (chunk.plaintext.empty()) continue;  // the empty final chunk of an empty import
    auto batch = BatchView::Open(chunk.plaintext);
    if (!batch) return tl::unexpected(NotBatches(chunk.index, batch.error().message));
    if (!HasColumns(*batch, schema)) {
      return tl::unexpected(
          NotBatches(chunk.index, "the batch's columns differ from the header's " + report.schema));
    }
    formatter.Append(*batch, text);
    report.rows += batch->row_count();
    if (auto written = output->Write(text); !written) return tl::unexpected(written.error());
    text.clear();
  }
  if (!text.empty()) {  // the header of an input without rows
    if (auto written = output->Write(text); !written) return tl::unexpected(written.error());
  }
  if (auto finished = output->Finish(); !finished) return tl::unexpected(finished.error());
  return report;
}

}  // namespace zcpipe::stages
