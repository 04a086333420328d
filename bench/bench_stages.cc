// bench_stages: single-core throughput of each stage over one generated CSV (256 MiB by
// default; ZCPIPE_BENCH_MIB changes it), with memcpy and raw AES-256-GCM measured in the same
// run as the bounds. See bench/README.md.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "csv_sample.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::bench {
namespace {

using stages::Chunk;

constexpr std::size_t kChunkSize = 8u << 20;
constexpr std::size_t kBlockSize = 32u << 20;  // output blocks: a parsed chunk grows ~2x

// An 8-byte-aligned stand-in for an arena block.
struct Block {
  explicit Block(std::size_t size) : words(size / 8) {}
  std::span<std::byte> span() { return std::as_writable_bytes(std::span(words)); }
  std::vector<std::uint64_t> words;
};

// The sample, its chunks and their parsed batches: built once, shared by every benchmark.
struct Corpus {
  std::string csv;
  std::string path;
  std::vector<Chunk> chunks;         // views into csv
  std::vector<std::vector<std::byte>> batches;  // RecordBatch bytes, one per chunk
  std::unique_ptr<stages::CsvParser> parser;
  std::size_t batch_bytes = 0;

  Corpus() {
    const char* mib = std::getenv("ZCPIPE_BENCH_MIB");
    csv = MakeSampleCsv((mib != nullptr ? std::strtoull(mib, nullptr, 10) : 256) << 20);
    char name[] = "/tmp/zcpipe-bench-XXXXXX";
    ::close(::mkstemp(name));
    path = name;
    std::ofstream(path, std::ios::binary) << csv;

    auto chunker = stages::Chunker::Open(path, {.chunk_size = kChunkSize});
    Block in(kBlockSize), out(kBlockSize);
    for (;;) {
      auto next = chunker->Next(in.span());
      if (!next || !*next) break;
      Chunk chunk = **next;
      chunk.bytes = std::as_bytes(std::span(csv)).subspan(chunk.first_byte, chunk.bytes.size());
      chunks.push_back(chunk);
    }
    parser = std::make_unique<stages::CsvParser>(stages::CsvParser::Create({}, chunks.front()));
    for (const auto& chunk : chunks) {
      auto parsed = parser->Parse(chunk, out.span());
      if (!parsed || parsed->bytes_consumed != chunk.bytes.size()) {
        throw std::runtime_error("bench corpus: parse failed");
      }
      batches.emplace_back(parsed->batch.begin(), parsed->batch.end());
      batch_bytes += parsed->batch.size();
    }
  }
  ~Corpus() { ::unlink(path.c_str()); }
};

const Corpus& TheCorpus() {
  static const Corpus corpus;
  return corpus;
}

void Report(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iteration));
}

void BM_Memcpy(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  Block block(kBlockSize);
  for (auto _ : state) {
    for (const auto& chunk : corpus.chunks) {
      std::memcpy(block.span().data(), chunk.bytes.data(), chunk.bytes.size());
      benchmark::ClobberMemory();
    }
  }
  Report(state, corpus.csv.size());
}

void BM_Chunk(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  Block block(kBlockSize);
  for (auto _ : state) {
    auto chunker = stages::Chunker::Open(corpus.path, {.chunk_size = kChunkSize});
    while (true) {
      auto next = chunker->Next(block.span());
      if (!next) state.SkipWithError(next.error().message.c_str());
      if (!next || !*next) break;
    }
  }
  Report(state, corpus.csv.size());
}

void BM_ParseCsv(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  stages::CsvParser parser = *corpus.parser;
  Block block(kBlockSize);
  std::uint64_t rows = 0;
  for (auto _ : state) {
    for (const auto& chunk : corpus.chunks) {
      auto parsed = parser.Parse(chunk, block.span());
      if (!parsed) state.SkipWithError(parsed.error().message.c_str());
      rows += parsed->rows_out;
    }
  }
  Report(state, corpus.csv.size());
  state.counters["rows_per_second"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

// A typical cleanup chain: keep four columns, drop small or inactive orders, pseudonymize the
// customer with keyed HMAC-SHA-256.
void BM_Transform(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  const std::vector<std::byte> hash_key(32, std::byte{7});
  std::vector<std::unique_ptr<stages::Transform>> steps;
  steps.push_back(stages::ParseTransform("filter", "amount >= 10 and active == true"));
  steps.push_back(stages::ParseTransform("hash", "customer", hash_key));
  steps.push_back(stages::ParseTransform("select", "id,customer,amount,created"));
  const stages::TransformChain chain(std::move(steps));
  Block block(kBlockSize);
  stages::InputErrors rejected;
  for (auto _ : state) {
    for (const auto& bytes : corpus.batches) {
      auto in = stages::BatchView::Open(bytes);
      auto out = chain.Apply(*in, block.span(), rejected);
      if (!out) state.SkipWithError(out.error().message.c_str());
    }
  }
  Report(state, corpus.csv.size());
}

// The reference: AES-256-GCM straight through EVP over the same buffers BM_Encrypt seals.
void BM_RawAesGcm(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  Block out(kBlockSize);
  const unsigned char key[32] = {1, 2, 3};
  unsigned char iv[12] = {};
  unsigned char tag[16];
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, nullptr);
  for (auto _ : state) {
    for (std::size_t i = 0; i < corpus.batches.size(); ++i) {
      const auto& batch = corpus.batches[i];
      std::memcpy(iv, &i, sizeof i);
      int n = 0;
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
      EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.span().data()), &n,
                        reinterpret_cast<const unsigned char*>(batch.data()),
                        static_cast<int>(batch.size()));
      EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.span().data()) + n, &n);
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag);
      benchmark::DoNotOptimize(tag);
    }
  }
  EVP_CIPHER_CTX_free(ctx);
  Report(state, corpus.batch_bytes);
}

// The encrypt stage: each parsed batch sealed as a .zcp chunk frame.
void BM_Encrypt(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  auto key = stages::FileKey::Generate();
  const auto credential = stages::Credential::FromKey(std::move(*key));
  const std::string path = corpus.path + ".zcp";
  auto writer = stages::ContainerWriter::Create(path, credential, {.schema = "bench"});
  if (!writer) {
    state.SkipWithError(stages::Describe(writer.error()).c_str());
    return;
  }
  Block out(kBlockSize);
  for (auto _ : state) {
    for (std::size_t i = 0; i < corpus.batches.size(); ++i) {
      auto sealed = writer->sealer().Seal(i, i + 1 == corpus.batches.size(),
                                          corpus.batches[i], out.span());
      if (!sealed) state.SkipWithError(stages::Describe(sealed.error()).c_str());
    }
  }
  Report(state, corpus.batch_bytes);
}

void Register() {
  for (auto* bench : {benchmark::RegisterBenchmark("stages/memcpy", BM_Memcpy),
                      benchmark::RegisterBenchmark("stages/chunk", BM_Chunk),
                      benchmark::RegisterBenchmark("stages/parse_csv", BM_ParseCsv),
                      benchmark::RegisterBenchmark("stages/transform", BM_Transform),
                      benchmark::RegisterBenchmark("stages/raw_aes_gcm", BM_RawAesGcm),
                      benchmark::RegisterBenchmark("stages/encrypt", BM_Encrypt)}) {
    bench->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(5)
        ->ReportAggregatesOnly(true);
  }
}

}  // namespace
}  // namespace zcpipe::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  zcpipe::bench::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
