// What bench_stages and bench_pipeline share: the generated sample as a file, its chunks and
// parsed batches, the transform chain, and one single-threaded pass of each stage over it.
#pragma once

#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "csv_sample.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::bench {

namespace fs = std::filesystem;

// The pipeline's default chunk size, so that stage passes and jobs see the same chunks.
inline constexpr std::size_t kChunkSize = std::size_t{2} << 20;
inline constexpr std::size_t kBlockSize = std::size_t{32} << 20;  // passes' output blocks

// An 8-byte-aligned stand-in for an arena block.
struct Block {
  explicit Block(std::size_t size) : words(size / 8) {}
  std::span<std::byte> span() { return std::as_writable_bytes(std::span(words)); }
  std::vector<std::uint64_t> words;
};

// A fresh directory under the temporary directory ($TMPDIR, else /tmp): `prefix` then 6 random
// characters.
inline fs::path MakeTempDir(const std::string& prefix = "zcpipe-bench-") {
  std::string name = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (::mkdtemp(name.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
  }
  return name;
}

// A MakeTempDir directory, removed with everything in it when this goes out of scope.
class ScopedTempDir {
 public:
  ScopedTempDir() : path_(MakeTempDir()) {}
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A typical cleanup chain: drop small or inactive orders, pseudonymize the customer with keyed
// HMAC-SHA-256, keep four columns.
inline std::shared_ptr<const stages::TransformChain> MakeCleanupChain() {
  const std::vector<std::byte> hash_key(32, std::byte{7});
  std::vector<std::unique_ptr<stages::Transform>> steps;
  steps.push_back(stages::ParseTransform("filter", "amount >= 10 and active == true"));
  steps.push_back(stages::ParseTransform("hash", "customer", hash_key));
  steps.push_back(stages::ParseTransform("select", "id,customer,amount,created"));
  return std::make_shared<const stages::TransformChain>(std::move(steps));
}

inline std::shared_ptr<const stages::Credential> MakeCredential() {
  auto key = stages::FileKey::Generate();
  if (!key) throw std::runtime_error("bench: " + stages::Describe(key.error()));
  return std::make_shared<const stages::Credential>(stages::Credential::FromKey(std::move(*key)));
}

// The sample (256 MiB, or ZCPIPE_BENCH_MIB) as a file, its chunks and their parsed batches,
// and those batches sealed as container frames: built once, the directory removed at exit.
struct Corpus {
  std::string csv;
  fs::path dir;
  fs::path path;
  std::vector<stages::Chunk> chunks;            // views into csv
  std::vector<std::vector<std::byte>> batches;  // RecordBatch bytes, one per chunk
  std::vector<std::vector<std::byte>> frames;   // the batches sealed, for the write pass
  std::unique_ptr<stages::CsvParser> parser;
  std::size_t batch_bytes = 0;

  Corpus() {
    const char* mib = std::getenv("ZCPIPE_BENCH_MIB");
    csv = MakeSampleCsv((mib != nullptr ? std::strtoull(mib, nullptr, 10) : 256) << 20);
    dir = MakeTempDir();
    path = dir / "sample.csv";
    std::ofstream(path, std::ios::binary) << csv;

    auto chunker = stages::Chunker::Open(path.string(), {.chunk_size = kChunkSize});
    if (!chunker) throw std::runtime_error("bench corpus: " + chunker.error().message);
    Block in(kBlockSize), out(kBlockSize);
    for (;;) {
      auto next = chunker->Next(in.span());
      if (!next || !*next) break;
      stages::Chunk chunk = **next;
      chunk.bytes = std::as_bytes(std::span(csv)).subspan(chunk.first_byte, chunk.bytes.size());
      chunks.push_back(chunk);
    }
    parser = std::make_unique<stages::CsvParser>(stages::CsvParser::Create({}, chunks.front()));
    auto credential = MakeCredential();
    auto sealer = stages::ContainerWriter::Create(dir / "frames.zcp", *credential, {});
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      auto parsed = parser->Parse(chunks[i], out.span());
      if (!parsed || parsed->bytes_consumed != chunks[i].bytes.size() || !sealer) {
        throw std::runtime_error("bench corpus: parse failed");
      }
      batches.emplace_back(parsed->batch.begin(), parsed->batch.end());
      batch_bytes += parsed->batch.size();
      auto& frame = frames.emplace_back(parsed->batch.size() + stages::kChunkOverhead);
      (void)sealer->sealer().Seal(i, false, batches.back(), frame);
    }
  }
  ~Corpus() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

inline std::unique_ptr<const Corpus>& CorpusSlot() {
  static std::unique_ptr<const Corpus> corpus;
  return corpus;
}

// The corpus, built on first use.
inline const Corpus& TheCorpus() {
  auto& corpus = CorpusSlot();
  if (!corpus) corpus = std::make_unique<const Corpus>();
  return *corpus;
}

// Frees the corpus (and returns the freed heap to the system), so that later benchmarks measure
// their own memory, not the corpus's; TheCorpus() builds it again if asked.
inline void ReleaseCorpus() {
  CorpusSlot().reset();
  ::malloc_trim(0);
}

// One pass of each stage over the whole corpus, single-threaded; each throws
// std::runtime_error when the stage fails.
inline void PassChunk(const Corpus& corpus, Block& block) {
  auto chunker = stages::Chunker::Open(corpus.path.string(), {.chunk_size = kChunkSize});
  if (!chunker) throw std::runtime_error("chunk: " + chunker.error().message);
  for (;;) {
    auto next = chunker->Next(block.span());
    if (!next) throw std::runtime_error("chunk: " + next.error().message);
    if (!*next) break;
  }
}

// Returns the rows parsed.
inline std::uint64_t PassParse(const Corpus& corpus, stages::CsvParser& parser, Block& block) {
  std::uint64_t rows = 0;
  for (const auto& chunk : corpus.chunks) {
    auto parsed = parser.Parse(chunk, block.span());
    if (!parsed) throw std::runtime_error("parse_csv: " + parsed.error().message);
    rows += parsed->rows_out;
  }
  return rows;
}

// Returns the rows the chain kept.
inline std::uint64_t PassTransform(const Corpus& corpus, const stages::Transform& chain,
                                   Block& block) {
  std::uint64_t rows = 0;
  stages::InputErrors rejected;
  for (const auto& bytes : corpus.batches) {
    auto in = stages::BatchView::Open(bytes);
    auto out = chain.Apply(*in, block.span(), rejected);
    if (!out) throw std::runtime_error("transform: " + out.error().message);
    rows += out->rows_out;
  }
  return rows;
}

inline void PassEncrypt(const Corpus& corpus, const stages::ChunkSealer& sealer, Block& block) {
  for (std::size_t i = 0; i < corpus.batches.size(); ++i) {
    auto sealed = sealer.Seal(i, i + 1 == corpus.batches.size(), corpus.batches[i], block.span());
    if (!sealed) throw std::runtime_error("encrypt: " + stages::Describe(sealed.error()));
  }
}

// The sink: a container written to `output`'s file system and committed (fsync, rename).
inline void PassWrite(const Corpus& corpus, const stages::Credential& credential,
                      const fs::path& output) {
  auto writer = stages::ContainerWriter::Create(output, credential, {.schema = "bench"});
  if (!writer) throw std::runtime_error("write: " + stages::Describe(writer.error()));
  for (const auto& frame : corpus.frames) {
    if (auto appended = writer->Append(frame); !appended) {
      throw std::runtime_error("write: " + stages::Describe(appended.error()));
    }
  }
  if (!writer->Write({}, true) || !writer->Commit()) throw std::runtime_error("write: commit");
  fs::remove(output);
}

}  // namespace zcpipe::bench
