// bench_stages: single-core throughput of each stage over one generated CSV (256 MiB by
// default; ZCPIPE_BENCH_MIB changes it), with memcpy and raw AES-256-GCM measured in the same
// run as the bounds. See bench/README.md.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstring>

#include "corpus.h"

namespace zcpipe::bench {
namespace {

// Runs `pass` once per iteration over the corpus; bytes counted per iteration: `bytes`.
template <class Pass>
void Measure(benchmark::State& state, std::size_t bytes, Pass&& pass) {
  try {
    for (auto _ : state) pass();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_Memcpy(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  Block block(kBlockSize);
  Measure(state, corpus.csv.size(), [&] {
    for (const auto& chunk : corpus.chunks) {
      std::memcpy(block.span().data(), chunk.bytes.data(), chunk.bytes.size());
      benchmark::ClobberMemory();
    }
  });
}

void BM_Chunk(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  Block block(kBlockSize);
  Measure(state, corpus.csv.size(), [&] { PassChunk(corpus, block); });
}

void BM_ParseCsv(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  stages::CsvParser parser = *corpus.parser;
  Block block(kBlockSize);
  std::uint64_t rows = 0;
  Measure(state, corpus.csv.size(), [&] { rows += PassParse(corpus, parser, block); });
  state.counters["rows_per_second"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_Transform(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  const auto chain = MakeCleanupChain();
  Block block(kBlockSize);
  Measure(state, corpus.csv.size(), [&] { (void)PassTransform(corpus, *chain, block); });
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
  Measure(state, corpus.batch_bytes, [&] {
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
  });
  EVP_CIPHER_CTX_free(ctx);
}

// The encrypt stage: each parsed batch sealed as a .zcp chunk frame.
void BM_Encrypt(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  const auto credential = MakeCredential();
  auto writer = stages::ContainerWriter::Create(corpus.dir / "encrypt.zcp", *credential, {});
  if (!writer) {
    state.SkipWithError(stages::Describe(writer.error()).c_str());
    return;
  }
  Block block(kBlockSize);
  Measure(state, corpus.batch_bytes, [&] { PassEncrypt(corpus, writer->sealer(), block); });
}

// The sink stage: the sealed frames appended to a container file in $TMPDIR, and committed.
void BM_Write(benchmark::State& state) {
  const auto& corpus = TheCorpus();
  const auto credential = MakeCredential();
  Measure(state, corpus.csv.size(), [&] { PassWrite(corpus, *credential, corpus.dir / "w.zcp"); });
}

void Register() {
  for (auto* bench : {benchmark::RegisterBenchmark("stages/memcpy", BM_Memcpy),
                      benchmark::RegisterBenchmark("stages/chunk", BM_Chunk),
                      benchmark::RegisterBenchmark("stages/parse_csv", BM_ParseCsv),
                      benchmark::RegisterBenchmark("stages/transform", BM_Transform),
                      benchmark::RegisterBenchmark("stages/raw_aes_gcm", BM_RawAesGcm),
                      benchmark::RegisterBenchmark("stages/encrypt", BM_Encrypt),
                      benchmark::RegisterBenchmark("stages/write", BM_Write)}) {
    bench->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1)
        ->Repetitions(5)
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
