// DecryptFile: a whole container to a plain file, published only once everything verified.
#include "container/container_format.h"
#include "zcpipe/stages/atomic_file.h"
#include "zcpipe/stages/container.h"

namespace zcpipe::stages {

ContainerResult<ContainerInfo> DecryptFile(const std::filesystem::path& in,
                                           const std::filesystem::path& out,
                                           const Credential& credential,
                                           const DecryptOptions& options) {
  if (SameFile(in, out)) {
    return container_detail::Fail(ContainerErrc::kInvalidArgument, "the output is the container");
  }
  auto reader = ContainerReader::Open(in, credential);
  if (!reader) return tl::unexpected(reader.error());
  auto file = AtomicFile::Create(out, options.replace_existing);
  if (!file) return tl::unexpected(file.error());

  ContainerInfo info;
  info.header = reader->header();
  for (;;) {
    auto chunk = reader->Next();
    if (!chunk) return tl::unexpected(chunk.error());  // `file` removes the temporary file
    if (!*chunk) break;
    if (auto written = file->Write((*chunk)->plaintext); !written) {
      return tl::unexpected(written.error());
    }
    ++info.chunk_count;
    info.plaintext_bytes += (*chunk)->plaintext.size();
  }
  if (auto committed = file->Commit(); !committed) return tl::unexpected(committed.error());
  std::error_code ignored;
  info.file_size = std::filesystem::file_size(in, ignored);
  return info;
}

}  // namespace zcpipe::stages
