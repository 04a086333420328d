#include "zcpipe/stages/container.h"

#include <sys/stat.h>
#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "container_test_util.h"

namespace zcpipe::stages {
namespace {

using namespace container_testing;  // NOLINT(google-build-using-namespace)

std::string RandomText(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string text(size, '\0');
  for (char& c : text) c = static_cast<char>(random());
  return text;
}

class ContainerTest : public ::testing::Test {
 protected:
  // A container of `chunks` (last one flagged) in memory, written through a real file.
  Bytes Make(const Credential& credential, const std::vector<std::string>& chunks,
             std::string schema = "id:int64,name:string") {
    const auto path = dir_ / ("made-" + std::to_string(made_++) + ".zcp");
    WriteContainer(path, credential, chunks, std::move(schema));
    return ReadBytes(path);
  }

  ScratchDir dir_;
  int made_ = 0;
};

// --- Round trips ---------------------------------------------------------------------------

TEST_F(ContainerTest, RoundTripsSeveralChunksEndingWithAnEmptyFinalChunk) {
  const auto credential = RawCredential();
  const std::vector<std::string> chunks = {"alpha,1\n", "", RandomText(1 << 20, 7), "omega\n", ""};
  const auto path = dir_ / "out.zcp";
  WriteContainer(path, credential, chunks);

  auto reader = ContainerReader::Open(path, credential);
  ASSERT_TRUE(reader) << Describe(reader.error());
  EXPECT_EQ(reader->header().schema, "id:int64,name:string");
  EXPECT_EQ(reader->header().key_source, KeySource::kRawKey);
  EXPECT_EQ(reader->header().algorithm, ContainerAlgorithm::kAes256Gcm);
  EXPECT_EQ(reader->header().version, 1);
  EXPECT_FALSE(reader->header().scrypt.has_value());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto chunk = reader->Next();
    ASSERT_TRUE(chunk) << Describe(chunk.error());
    ASSERT_TRUE(chunk->has_value());
    EXPECT_EQ((*chunk)->index, i);
    EXPECT_EQ((*chunk)->last, i + 1 == chunks.size());
    EXPECT_EQ(ToString((*chunk)->plaintext), chunks[i]) << "chunk " << i;
  }
  EXPECT_TRUE(reader->finished());
  auto end = reader->Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->has_value());
  EXPECT_FALSE(reader->Next()->has_value());  // and stays at the end
}

TEST_F(ContainerTest, RoundTripsASingleChunkFile) {
  const auto credential = RawCredential();
  const auto file = Make(credential, {"the only chunk"});
  EXPECT_EQ(Split(file).frames.size(), 1u);
  auto chunks = ReadAll(file, credential);
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, std::vector<std::string>{"the only chunk"});
}

TEST_F(ContainerTest, AnEmptyImportIsOneEmptyFinalChunk) {
  const auto credential = RawCredential();
  const auto file = Make(credential, {""}, "");
  EXPECT_EQ(file.size(), 156u + kChunkOverhead);  // header with an empty schema, one frame
  auto chunks = ReadAll(file, credential);
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, std::vector<std::string>{""});
}

TEST_F(ContainerTest, RoundTripsWithAPassphrase) {
  const auto credential = PassCredential();
  const auto file = Make(credential, {"a", "b", ""});
  auto reader = ContainerReader::OpenBuffer(file, PassCredential());
  ASSERT_TRUE(reader) << Describe(reader.error());
  EXPECT_EQ(reader->header().key_source, KeySource::kPassphrase);
  ASSERT_TRUE(reader->header().scrypt.has_value());
  EXPECT_EQ(*reader->header().scrypt, kCheapScrypt);
  auto chunks = ReadAll(file, PassCredential());
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, (std::vector<std::string>{"a", "b", ""}));
}

TEST_F(ContainerTest, DefaultScryptParametersAreStoredAndWork) {
  const auto credential = Credential::FromPassphrase("a passphrase of some length");
  const auto path = dir_ / "default.zcp";
  WriteContainer(path, credential, {"payload"});
  auto info = Inspect(path);
  ASSERT_TRUE(info) << Describe(info.error());
  ASSERT_TRUE(info->header.scrypt.has_value());
  EXPECT_EQ(*info->header.scrypt, (ScryptParams{15, 8, 1}));
  auto reader =
      ContainerReader::Open(path, Credential::FromPassphrase("a passphrase of some length"));
  ASSERT_TRUE(reader) << Describe(reader.error());
  auto chunk = reader->Next();
  ASSERT_TRUE(chunk && chunk->has_value());
  EXPECT_EQ(ToString((*chunk)->plaintext), "payload");
}

TEST_F(ContainerTest, InspectReadsTheHeaderAndCountsFramesWithoutAKey) {
  const auto path = dir_ / "in.zcp";
  WriteContainer(path, PassCredential(), {"12345", "678", ""}, "x:bool");
  auto info = Inspect(path);
  ASSERT_TRUE(info) << Describe(info.error());
  EXPECT_EQ(info->header.schema, "x:bool");
  EXPECT_EQ(info->header.key_source, KeySource::kPassphrase);
  EXPECT_EQ(info->header.header_size, 156u + 6u);
  EXPECT_EQ(info->chunk_count, 3u);
  EXPECT_EQ(info->plaintext_bytes, 8u);
  EXPECT_EQ(info->file_size, std::filesystem::file_size(path));

  auto bytes = ReadBytes(path);
  bytes.push_back(std::byte{0});
  WriteBytes(path, bytes);
  ASSERT_ERRC(Inspect(path), ContainerErrc::kTrailingBytes);
}

TEST_F(ContainerTest, DecryptFileWritesThePlaintextOwnerOnly) {
  const auto credential = RawCredential();
  const auto in = dir_ / "in.zcp";
  const auto out = dir_ / "out.csv";
  WriteContainer(in, credential, {"id,name\n", "1,a\n", "2,b\n"});
  auto info = DecryptFile(in, out, credential);
  ASSERT_TRUE(info) << Describe(info.error());
  EXPECT_EQ(info->chunk_count, 3u);
  EXPECT_EQ(info->plaintext_bytes, 16u);
  EXPECT_EQ(info->header.schema, "id:int64,name:string");
  EXPECT_EQ(ToString(ReadBytes(out)), "id,name\n1,a\n2,b\n");
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(dir_.Entries(), (std::vector<std::string>{"in.zcp", "out.csv"}));
  // Never over its own container, however named, even allowed to replace.
  auto onto_itself = DecryptFile(in, dir_ / "." / "in.zcp", credential, {.replace_existing = true});
  ASSERT_ERRC(onto_itself, ContainerErrc::kInvalidArgument);
  EXPECT_TRUE(Inspect(in));
}

// --- Sealing -------------------------------------------------------------------------------

TEST_F(ContainerTest, ChunksSealedOnManyThreadsMakeAFileThatDecrypts) {
  const auto credential = RawCredential();
  const auto path = dir_ / "parallel.zcp";
  auto writer = ContainerWriter::Create(path, credential, {.schema = "s"});
  ASSERT_TRUE(writer) << Describe(writer.error());

  constexpr std::size_t kChunks = 64;
  constexpr std::size_t kThreads = 8;
  std::vector<std::string> plaintexts(kChunks);
  for (std::size_t i = 0; i < kChunks; ++i) plaintexts[i] = RandomText(1000 + 37 * i, i);
  plaintexts.back().clear();  // an empty final chunk
  std::vector<Bytes> frames(kChunks);
  std::vector<std::string> errors(kThreads);
  const ChunkSealer& sealer = writer->sealer();
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = t; i < kChunks; i += kThreads) {  // interleaved: out of order
          frames[i].resize(plaintexts[i].size() + kChunkOverhead);
          auto sealed = sealer.Seal(i, i + 1 == kChunks, ToBytes(plaintexts[i]), frames[i]);
          if (!sealed) {
            errors[t] = Describe(sealed.error());
            return;
          }
          frames[i].resize(*sealed);
        }
      });
    }
  }
  for (const auto& error : errors) ASSERT_EQ(error, "");
  for (const auto& frame : frames) ASSERT_TRUE(writer->Append(frame));
  ASSERT_TRUE(writer->Commit());

  auto chunks = ReadAll(ReadBytes(path), credential);
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, plaintexts);
}

TEST_F(ContainerTest, SealWorksInPlaceAndChecksItsBuffers) {
  const auto credential = RawCredential();
  const auto path = dir_ / "inplace.zcp";
  auto writer = ContainerWriter::Create(path, credential, {});
  ASSERT_TRUE(writer);
  const ChunkSealer& sealer = writer->sealer();

  // In place: the plaintext sits right after room for the frame header.
  const std::string text = "in place plaintext";
  Bytes buffer(text.size() + kChunkOverhead);
  const Bytes text_bytes = ToBytes(text);
  std::copy(text_bytes.begin(), text_bytes.end(), buffer.begin() + kFrameHeaderSize);
  const auto plaintext = std::span(buffer).subspan(kFrameHeaderSize, text.size());
  auto sealed = sealer.Seal(0, true, plaintext, buffer);
  ASSERT_TRUE(sealed) << Describe(sealed.error());
  EXPECT_EQ(*sealed, buffer.size());
  ASSERT_TRUE(writer->Append(buffer));
  ASSERT_TRUE(writer->Commit());
  auto chunks = ReadAll(ReadBytes(path), credential);
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, std::vector<std::string>{text});

  Bytes small(text.size() + kChunkOverhead - 1);
  ASSERT_ERRC(sealer.Seal(0, false, ToBytes(text), small), ContainerErrc::kInvalidArgument);
  Bytes overlapping(100);  // out starts at the plaintext: not the in-place layout
  ASSERT_ERRC(sealer.Seal(0, false, std::span(overlapping).first(10), overlapping),
              ContainerErrc::kInvalidArgument);
  Bytes huge(kMaxChunkPlaintext + 1);
  Bytes huge_out(huge.size() + kChunkOverhead);
  ASSERT_ERRC(sealer.Seal(0, false, huge, huge_out), ContainerErrc::kInvalidArgument);
}

TEST_F(ContainerTest, WriterEnforcesFrameOrderAndAFinalChunk) {
  auto writer = ContainerWriter::Create(dir_ / "w.zcp", RawCredential(), {});
  ASSERT_TRUE(writer);
  auto seal = [&](std::uint64_t index, bool last) {
    Bytes frame(3 + kChunkOverhead);
    auto sealed = writer->sealer().Seal(index, last, ToBytes("abc"), frame);
    EXPECT_TRUE(sealed);
    return frame;
  };
  ASSERT_ERRC(writer->Append(seal(1, false)), ContainerErrc::kInvalidArgument);  // 0 is due
  auto frame0 = seal(0, false);
  ASSERT_ERRC(writer->Append(std::span(frame0).first(frame0.size() - 1)),
              ContainerErrc::kInvalidArgument);                    // length field disagrees
  ASSERT_ERRC(writer->Commit(), ContainerErrc::kInvalidArgument);  // nothing yet
  ASSERT_TRUE(writer->Append(frame0));
  ASSERT_ERRC(writer->Append(frame0), ContainerErrc::kInvalidArgument);  // 1 is due
  ASSERT_ERRC(writer->Commit(), ContainerErrc::kInvalidArgument);        // no final chunk
  ASSERT_TRUE(writer->Append(seal(1, true)));
  ASSERT_ERRC(writer->Append(seal(2, false)), ContainerErrc::kInvalidArgument);  // after last
  EXPECT_EQ(writer->chunks_appended(), 2u);
  EXPECT_TRUE(writer->Commit());
}

TEST_F(ContainerTest, WriterRejectsBadSchemasPassphrasesAndScryptParameters) {
  const auto path = dir_ / "bad.zcp";
  const std::string too_long(kMaxSchemaSize + 1, 'x');
  ASSERT_ERRC(ContainerWriter::Create(path, RawCredential(), {.schema = too_long}),
              ContainerErrc::kInvalidArgument);
  ASSERT_ERRC(ContainerWriter::Create(path, RawCredential(), {.schema = "bad \xff utf-8"}),
              ContainerErrc::kInvalidArgument);
  EXPECT_TRUE(
      ContainerWriter::Create(path, RawCredential(), {.schema = std::string(kMaxSchemaSize, 'x')}));
  ASSERT_ERRC(ContainerWriter::Create(path, Credential::FromPassphrase("", kCheapScrypt), {}),
              ContainerErrc::kInvalidArgument);
  ASSERT_ERRC(ContainerWriter::Create(path, Credential::FromPassphrase("pw", {0, 8, 1}), {}),
              ContainerErrc::kInvalidArgument);
  for (const ScryptParams params : {ScryptParams{21, 8, 1}, ScryptParams{10, 33, 1},
                                    ScryptParams{10, 8, 17}, ScryptParams{20, 32, 1}}) {
    ASSERT_ERRC(ContainerWriter::Create(path, Credential::FromPassphrase("pw", params), {}),
                ContainerErrc::kParamsAboveCaps);
  }
  EXPECT_EQ(dir_.Entries(), std::vector<std::string>{});
}

// --- Output never left behind ----------------------------------------------------------------

TEST_F(ContainerTest, AnUncommittedWriterLeavesNothing) {
  const auto path = dir_ / "never.zcp";
  {
    auto writer = ContainerWriter::Create(path, RawCredential(), {});
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->Write(ToBytes("some data"), false));
    ASSERT_TRUE(writer->Write(ToBytes(""), true));
    EXPECT_TRUE(std::filesystem::exists(writer->temp_path()));
    EXPECT_EQ(writer->temp_path().parent_path(), dir_.path());
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_EQ(dir_.Entries(), std::vector<std::string>{});
}

TEST_F(ContainerTest, CommitNeverReplacesAnExistingFileUnlessAsked) {
  const auto path = dir_ / "exists.zcp";
  WriteBytes(path, ToBytes("precious"));
  ASSERT_ERRC(ContainerWriter::Create(path, RawCredential(), {}), ContainerErrc::kAlreadyExists);

  // Created before the file appeared: Commit checks again, atomically.
  std::filesystem::remove(path);
  auto writer = ContainerWriter::Create(path, RawCredential(), {});
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write({}, true));
  WriteBytes(path, ToBytes("precious"));
  ASSERT_ERRC(writer->Commit(), ContainerErrc::kAlreadyExists);
  writer = ContainerWriter::Create(dir_ / "other.zcp", RawCredential(), {});  // drops the first
  ASSERT_TRUE(writer);
  EXPECT_EQ(ToString(ReadBytes(path)), "precious");

  auto replacing = ContainerWriter::Create(path, RawCredential(), {.replace_existing = true});
  ASSERT_TRUE(replacing);
  ASSERT_TRUE(replacing->Write(ToBytes("new"), true));
  ASSERT_TRUE(replacing->Commit());
  auto chunks = ReadAll(ReadBytes(path), RawCredential());
  ASSERT_TRUE(chunks) << Describe(chunks.error());
  EXPECT_EQ(*chunks, std::vector<std::string>{"new"});
}

TEST_F(ContainerTest, AFailedDecryptLeavesNoOutputAndNoTemporaryFile) {
  const auto credential = RawCredential();
  const auto in = dir_ / "in.zcp";
  const auto out = dir_ / "out.csv";
  auto file = Make(credential, {"first chunk is fine\n", "second is tampered\n", ""});
  const auto split = Split(file);
  file[split.frame_offsets[1] + kFrameHeaderSize + 3] ^= std::byte{0x40};
  WriteBytes(in, file);

  ASSERT_ERRC(DecryptFile(in, out, credential), ContainerErrc::kTamperedChunk);
  ASSERT_ERRC(DecryptFile(in, out, RawCredential(2)), ContainerErrc::kWrongKey);
  file.resize(split.frame_offsets[2]);  // truncated: the reader fails only at the very end
  WriteBytes(in, file);
  ASSERT_ERRC(DecryptFile(in, out, credential), ContainerErrc::kTamperedChunk);
  WriteBytes(in, split.Join({0}));
  ASSERT_ERRC(DecryptFile(in, out, credential), ContainerErrc::kTruncated);
  EXPECT_EQ(dir_.Entries(), (std::vector<std::string>{"in.zcp", "made-0.zcp"}));
}

TEST_F(ContainerTest, DecryptFileDoesNotReplaceAnExistingOutputUnlessAsked) {
  const auto credential = RawCredential();
  const auto in = dir_ / "in.zcp";
  const auto out = dir_ / "out.csv";
  WriteContainer(in, credential, {"fresh"});
  WriteBytes(out, ToBytes("old"));
  ASSERT_ERRC(DecryptFile(in, out, credential), ContainerErrc::kAlreadyExists);
  EXPECT_EQ(ToString(ReadBytes(out)), "old");
  ASSERT_TRUE(DecryptFile(in, out, credential, {.replace_existing = true}));
  EXPECT_EQ(ToString(ReadBytes(out)), "fresh");
  EXPECT_EQ(dir_.Entries(), (std::vector<std::string>{"in.zcp", "out.csv"}));
}

// --- Keys ------------------------------------------------------------------------------------

TEST_F(ContainerTest, AWrongKeyIsReportedAsSuch) {
  const auto file = Make(RawCredential(1), {"secret"});
  auto chunks = ReadAll(file, RawCredential(2));
  ASSERT_ERRC(chunks, ContainerErrc::kWrongKey);
  EXPECT_EQ(chunks.error().byte_offset, KeyCheckOffset(file));
  EXPECT_FALSE(chunks.error().chunk_index.has_value());
}

TEST_F(ContainerTest, AWrongPassphraseIsReportedAsAWrongKey) {
  const auto file = Make(PassCredential("right"), {"secret"});
  ASSERT_ERRC(ReadAll(file, PassCredential("wrong")), ContainerErrc::kWrongKey);
  ASSERT_ERRC(ReadAll(file, PassCredential("Right")), ContainerErrc::kWrongKey);
  EXPECT_TRUE(ReadAll(file, PassCredential("right")));
}

TEST_F(ContainerTest, AKeyOfTheOtherKindIsAMismatch) {
  ASSERT_ERRC(ReadAll(Make(PassCredential(), {"x"}), RawCredential()),
              ContainerErrc::kKeySourceMismatch);
  ASSERT_ERRC(ReadAll(Make(RawCredential(), {"x"}), PassCredential()),
              ContainerErrc::kKeySourceMismatch);
}

// --- Header ----------------------------------------------------------------------------------

TEST_F(ContainerTest, AFileWithoutTheMagicIsNotAZcpFile) {
  const auto credential = RawCredential();
  auto file = Make(credential, {"x"});
  file[0] ^= std::byte{0x01};
  ASSERT_ERRC(ReadAll(file, credential), ContainerErrc::kNotZcp);
  ASSERT_ERRC(ReadAll(ToBytes("id,name\n1,alice\n2,bob\n"), credential), ContainerErrc::kNotZcp);
  ASSERT_ERRC(ReadAll(Bytes{}, credential), ContainerErrc::kNotZcp);
  const auto path = dir_ / "plain.csv";
  WriteBytes(path, ToBytes("id,name\n"));
  ASSERT_ERRC(ContainerReader::Open(path, credential), ContainerErrc::kNotZcp);
  ASSERT_ERRC(Inspect(path), ContainerErrc::kNotZcp);
  ASSERT_ERRC(ContainerReader::Open(dir_ / "missing.zcp", credential), ContainerErrc::kIo);
}

TEST_F(ContainerTest, AnotherVersionIsUnsupported) {
  const auto credential = RawCredential();
  auto file = Make(credential, {"x"});
  StoreBig(file, kOffVersion, 2, 2);
  FixChecksum(file);
  auto result = ReadAll(file, credential);
  ASSERT_ERRC(result, ContainerErrc::kUnsupportedVersion);
  EXPECT_EQ(result.error().byte_offset, kOffVersion);
}

struct HeaderField {
  const char* name;
  std::size_t offset;  // from the start, or from the end of the schema when after_schema
  bool after_schema;
  ContainerErrc expected;
};

// One byte of every header field damaged (checksum not recomputed): each is told apart from a
// wrong key, for both key sources.
TEST_F(ContainerTest, DamageToAnyHeaderFieldIsDetected) {
  const HeaderField fields[] = {
      {"magic", 3, false, ContainerErrc::kNotZcp},
      {"version", 9, false, ContainerErrc::kUnsupportedVersion},
      {"algorithm", kOffAlgorithm, false, ContainerErrc::kTamperedHeader},
      {"key source", kOffKeySource, false, ContainerErrc::kTamperedHeader},
      {"scrypt log2 N", kOffScryptLog2N + 3, false, ContainerErrc::kTamperedHeader},
      {"scrypt r", kOffScryptR + 3, false, ContainerErrc::kTamperedHeader},
      {"scrypt p", kOffScryptP + 3, false, ContainerErrc::kTamperedHeader},
      {"scrypt salt", kOffScryptSalt + 5, false, ContainerErrc::kTamperedHeader},
      {"file salt", kOffFileSalt + 31, false, ContainerErrc::kTamperedHeader},
      {"schema length", kOffSchemaLength + 3, false, ContainerErrc::kTamperedHeader},
      {"schema", kOffSchema + 2, false, ContainerErrc::kTamperedHeader},
      {"key check", 0, true, ContainerErrc::kTamperedHeader},
      {"checksum", 16 + 7, true, ContainerErrc::kTamperedHeader},
      {"mac", 16 + 32 + 31, true, ContainerErrc::kTamperedHeader},
  };
  for (bool passphrase : {false, true}) {
    const auto credential = passphrase ? PassCredential() : RawCredential();
    const auto original = Make(credential, {"chunk"});
    for (const auto& field : fields) {
      auto file = original;
      const std::size_t at = field.offset + (field.after_schema ? KeyCheckOffset(original) : 0);
      file[at] ^= std::byte{0x01};
      ASSERT_ERRC(ReadAll(file, credential), field.expected)
          << field.name << (passphrase ? " (passphrase)" : " (raw key)");
    }
  }
}

// A forger who recomputes the unkeyed checksum still meets the key check and the MAC.
TEST_F(ContainerTest, AForgedHeaderWithAValidChecksumFailsTheMac) {
  const auto credential = RawCredential();
  const auto original = Make(credential, {"chunk"}, "id:int64");
  const auto forged = [&](auto&& edit) {
    auto file = original;
    edit(file);
    FixChecksum(file);
    return ReadAll(file, credential);
  };
  auto salt = forged([](Bytes& f) { f[kOffFileSalt] ^= std::byte{1}; });
  // A different salt derives different subkeys, so the key check fails first.
  ASSERT_ERRC(salt, ContainerErrc::kWrongKey);
  auto schema = forged([](Bytes& f) { f[kOffSchema] = std::byte{'I'}; });
  ASSERT_ERRC(schema, ContainerErrc::kTamperedHeader);
  EXPECT_EQ(schema.error().byte_offset, MacOffset(original));
  ASSERT_ERRC(forged([](Bytes& f) { f[KeyCheckOffset(f)] ^= std::byte{1}; }),
              ContainerErrc::kWrongKey);
  ASSERT_ERRC(forged([](Bytes& f) { f[kOffAlgorithm] = std::byte{2}; }),
              ContainerErrc::kUnsupportedAlgorithm);
  ASSERT_ERRC(forged([](Bytes& f) { f[kOffKeySource] = std::byte{3}; }),
              ContainerErrc::kUnsupportedKeySource);
  ASSERT_ERRC(forged([](Bytes& f) { StoreBig(f, kOffScryptLog2N, 4, 4); }),
              ContainerErrc::kMalformedHeader);  // scrypt fields on a raw-key file
  ASSERT_ERRC(forged([](Bytes& f) { f[kOffSchema] = std::byte{0xC0}; }),
              ContainerErrc::kMalformedHeader);  // schema not UTF-8
  EXPECT_TRUE(forged([](Bytes&) {}));            // control: recomputing alone changes nothing
}

TEST_F(ContainerTest, ScryptParametersAboveTheCapsAreRejectedBeforeAnyWork) {
  const auto credential = PassCredential();
  const auto original = Make(credential, {"chunk"});
  const struct {
    std::size_t offset;
    std::uint32_t value;
  } edits[] = {
      {kOffScryptLog2N, 21},      // N above 2^20
      {kOffScryptLog2N, 63},      // absurd N: must not even be computed
      {kOffScryptR, 33},          // r above 32
      {kOffScryptP, 17},          // p above 16
      {kOffScryptR, 0xffffffff},  // overflow bait
  };
  for (const auto& edit : edits) {
    auto file = original;
    StoreBig(file, edit.offset, 4, edit.value);
    FixChecksum(file);
    auto result = ReadAll(file, credential);
    ASSERT_ERRC(result, ContainerErrc::kParamsAboveCaps) << edit.offset << " = " << edit.value;
    EXPECT_EQ(result.error().byte_offset, kOffScryptLog2N);
  }
  auto memory = original;  // each within its cap, together 4 GiB > 1 GiB
  StoreBig(memory, kOffScryptLog2N, 4, 20);
  StoreBig(memory, kOffScryptR, 4, 32);
  FixChecksum(memory);
  ASSERT_ERRC(ReadAll(memory, credential), ContainerErrc::kParamsAboveCaps);
  auto zero = original;
  StoreBig(zero, kOffScryptP, 4, 0);
  FixChecksum(zero);
  ASSERT_ERRC(ReadAll(zero, credential), ContainerErrc::kMalformedHeader);

  auto schema = original;  // a schema length above 1 MiB
  StoreBig(schema, kOffSchemaLength, 4, kMaxSchemaSize + 1);
  ASSERT_ERRC(ReadAll(schema, credential), ContainerErrc::kParamsAboveCaps);
}

// Issue 24: a crafted header at the caps cost `verify` 1 GiB and 4.9 s before "wrong key".
TEST_F(ContainerTest, ScryptAboveTheReadersMemoryLimitIsRejectedBeforeAnyWork) {
  const auto credential = PassCredential();
  auto at_cap = Make(credential, {"chunk"});  // 128 * 2^20 * 8 = 1 GiB: the format allows it
  StoreBig(at_cap, kOffScryptLog2N, 4, 20);
  StoreBig(at_cap, kOffScryptR, 4, 8);
  StoreBig(at_cap, kOffScryptP, 4, 1);
  FixChecksum(at_cap);
  auto result = ReadAll(at_cap, credential);  // the default limit, 256 MiB
  ASSERT_ERRC(result, ContainerErrc::kParamsAboveCaps);
  EXPECT_NE(result.error().message.find("needs 1024 MiB, above this reader's limit of 256 MiB"),
            std::string::npos)
      << result.error().message;

  const auto path = dir_ / "default.zcp";  // 32 MiB, the writers' default
  WriteContainer(path, Credential::FromPassphrase("pw"), {"payload"});
  ASSERT_ERRC(ContainerReader::Open(path, Credential::FromPassphrase("pw", {}, 16u << 20)),
              ContainerErrc::kParamsAboveCaps);
  EXPECT_TRUE(ContainerReader::Open(path, Credential::FromPassphrase("pw", {}, 32u << 20)));
}

// --- Chunks ----------------------------------------------------------------------------------

class ContainerChunkAttackTest : public ContainerTest {
 protected:
  void SetUp() override {
    file_ = Make(credential_, {"chunk zero\n", "chunk one\n", "chunk two\n", "chunk three\n", ""});
    split_ = Split(file_);
    ASSERT_EQ(split_.frames.size(), 5u);
  }

  // Reads `file`; expects `before` good chunks then `code` at chunk `position`, byte `offset`.
  void ExpectFailure(const Bytes& file, std::size_t before, ContainerErrc code,
                     std::uint64_t position, std::uint64_t offset) {
    auto reader = ContainerReader::OpenBuffer(file, credential_);
    ASSERT_TRUE(reader) << Describe(reader.error());
    for (std::size_t i = 0; i < before; ++i) {
      auto chunk = reader->Next();
      ASSERT_TRUE(chunk && chunk->has_value()) << "chunk " << i;
      EXPECT_EQ((*chunk)->index, i);
    }
    auto failed = reader->Next();
    ASSERT_ERRC(failed, code);
    EXPECT_EQ(failed.error().chunk_index, position);
    EXPECT_EQ(failed.error().byte_offset, offset);
    // The error is sticky.
    auto again = reader->Next();
    ASSERT_ERRC(again, code);
    EXPECT_FALSE(reader->finished());
  }

  Credential credential_ = RawCredential();
  Bytes file_;
  SplitFile split_;
};

TEST_F(ContainerChunkAttackTest, ATamperedChunkIsRejectedWhereItIs) {
  const std::size_t frame = split_.frame_offsets[2];
  for (const std::size_t at : {frame + kFrameHeaderSize,            // ciphertext
                               frame + kFrameHeaderSize + 9,        // last ciphertext byte
                               frame + kFrameHeaderSize + 10 + 15,  // tag
                               frame + 7,                           // index
                               frame + 8}) {                        // last flag 0 → 1
    auto file = file_;
    file[at] ^= std::byte{0x01};
    ExpectFailure(file, 2, ContainerErrc::kTamperedChunk, 2, frame);
  }
  auto flag = file_;
  flag[frame + 8] = std::byte{2};
  ExpectFailure(flag, 2, ContainerErrc::kTamperedChunk, 2, frame);
  auto length = file_;
  length[frame + 12] ^= std::byte{0x01};  // 10 → 11: the boundary shifts, the tag fails
  ExpectFailure(length, 2, ContainerErrc::kTamperedChunk, 2, frame);
}

TEST_F(ContainerChunkAttackTest, ReorderedChunksAreRejected) {
  ExpectFailure(split_.Join({0, 2, 1, 3, 4}), 1, ContainerErrc::kReorderedChunk, 1,
                split_.frame_offsets[1]);
  ExpectFailure(split_.Join({1, 0, 2, 3, 4}), 0, ContainerErrc::kReorderedChunk, 0,
                split_.frame_offsets[0]);
  ExpectFailure(split_.Join({0, 1, 3, 4}), 2, ContainerErrc::kReorderedChunk, 2,
                split_.frame_offsets[2]);  // chunk 2 removed
  ExpectFailure(split_.Join({0, 1, 2, 4}), 3, ContainerErrc::kReorderedChunk, 3,
                split_.frame_offsets[3]);  // final chunk moved up
}

TEST_F(ContainerChunkAttackTest, ADuplicatedChunkIsRejected) {
  ExpectFailure(split_.Join({0, 1, 1, 2, 3, 4}), 2, ContainerErrc::kDuplicatedChunk, 2,
                split_.frame_offsets[2]);
  ExpectFailure(split_.Join({0, 1, 2, 3, 0, 4}), 4, ContainerErrc::kDuplicatedChunk, 4,
                split_.frame_offsets[4]);
}

TEST_F(ContainerChunkAttackTest, ATruncatedFileIsRejected) {
  // The final frame dropped: the file ends at a frame boundary with no final chunk.
  ExpectFailure(split_.Join({0, 1, 2, 3}), 4, ContainerErrc::kTruncated, 4,
                split_.frame_offsets[4]);
  ExpectFailure(split_.Join({}), 0, ContainerErrc::kTruncated, 0, split_.header.size());
  // Cut anywhere inside the last two frames.
  for (std::size_t size = split_.frame_offsets[3] + 1; size < file_.size(); ++size) {
    Bytes file(file_.begin(), file_.begin() + static_cast<std::ptrdiff_t>(size));
    const std::size_t position = size < split_.frame_offsets[4] ? 3 : 4;
    ExpectFailure(file, position, ContainerErrc::kTruncated, position,
                  split_.frame_offsets[position]);
  }
  // Cut inside the header.
  for (std::size_t size : {std::size_t{5}, std::size_t{9}, std::size_t{50}, std::size_t{100},
                           split_.header.size() - 1}) {
    Bytes file(file_.begin(), file_.begin() + static_cast<std::ptrdiff_t>(size));
    ASSERT_ERRC(ReadAll(file, credential_), ContainerErrc::kTruncated) << size;
  }
}

TEST_F(ContainerChunkAttackTest, BytesAfterTheFinalChunkAreRejected) {
  auto one = file_;
  one.push_back(std::byte{0});
  ExpectFailure(one, 4, ContainerErrc::kTrailingBytes, 4, file_.size());
  ExpectFailure(split_.Join({0, 1, 2, 3, 4, 4}), 4, ContainerErrc::kTrailingBytes, 4, file_.size());
}

TEST_F(ContainerChunkAttackTest, AFrameFromAnotherFileWithTheSameKeyIsRejected) {
  // Same key, same index, but another file salt, hence another payload key.
  const auto other = Split(Make(credential_, {"chunk zero\n", "chunk one\n", "evil\n", "x", ""}));
  auto file = split_.Join({0, 1});
  file.insert(file.end(), other.frames[2].begin(), other.frames[2].end());
  for (std::size_t i : {3, 4})
    file.insert(file.end(), split_.frames[i].begin(), split_.frames[i].end());
  ExpectFailure(file, 2, ContainerErrc::kTamperedChunk, 2, split_.frame_offsets[2]);
}

// Every single-bit change anywhere in a small container is rejected, for both key sources.
TEST_F(ContainerTest, EveryBitFlipIsRejected) {
  for (bool passphrase : {false, true}) {
    const auto credential = passphrase ? PassCredential() : RawCredential();
    const auto original = Make(credential, {"ab", "cde", ""}, "k:int64");
    ASSERT_TRUE(ReadAll(original, credential));
    std::size_t rejected = 0;
    for (std::size_t byte = 0; byte < original.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto file = original;
        file[byte] ^= static_cast<std::byte>(1 << bit);
        auto result = ReadAll(file, credential);
        EXPECT_FALSE(result) << "byte " << byte << " bit " << bit << " accepted";
        if (!result) ++rejected;
      }
    }
    EXPECT_EQ(rejected, original.size() * 8);
  }
}

// --- Conformance: docs/format.md recomputed with OpenSSL, independently of the library -------

Bytes SpecHkdf(std::span<const std::byte> ikm, std::span<const std::byte> salt,
               std::string_view info, std::size_t size) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  std::string digest = "SHA256";
  std::string info_copy(info);
  Bytes ikm_copy(ikm.begin(), ikm.end());
  Bytes salt_copy(salt.begin(), salt.end());
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest.data(), 0),
      OSSL_PARAM_construct_octet_string("key", ikm_copy.data(), ikm_copy.size()),
      OSSL_PARAM_construct_octet_string("salt", salt_copy.data(), salt_copy.size()),
      OSSL_PARAM_construct_octet_string("info", info_copy.data(), info_copy.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(size);
  const int ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  if (ok != 1) throw std::runtime_error("HKDF failed");
  return out;
}

Bytes SpecHmac(std::span<const std::byte> key, std::span<const std::byte> data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  std::string digest = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest.data(), 0),
                               OSSL_PARAM_construct_end()};
  Bytes out(32);
  std::size_t size = 0;
  const bool ok =
      EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) &&
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &size, out.size());
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) throw std::runtime_error("HMAC failed");
  return out;
}

// AES-256-GCM open of one frame with the documented nonce and AAD; nullopt if the tag fails.
std::optional<std::string> SpecOpen(std::span<const std::byte> key,
                                    std::span<const std::byte> frame) {
  const std::size_t length = LoadBig(frame, 9, 4);
  Bytes nonce(12);
  for (std::size_t i = 0; i < 8; ++i) nonce[3 + i] = frame[i];  // 00 00 00 || index
  nonce[11] = frame[8];                                         // || last
  auto u = [](const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); };
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(length, '\0');
  Bytes tag(frame.begin() + 13 + static_cast<std::ptrdiff_t>(length), frame.end());
  int n = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, u(key.data()), u(nonce.data())) &&
            EVP_DecryptUpdate(ctx, nullptr, &n, u(frame.data()), 13) &&
            (length == 0 || EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                                              u(frame.data() + 13), static_cast<int>(length))) &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data());
  unsigned char final_block[16];
  ok = ok && EVP_DecryptFinal_ex(ctx, final_block, &n) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

TEST_F(ContainerTest, TheBytesFollowTheDocumentedFormat) {
  for (bool passphrase : {false, true}) {
    SCOPED_TRACE(passphrase ? "passphrase" : "raw key");
    const auto credential = passphrase ? PassCredential("pw") : RawCredential(9);
    const std::string schema = "id:int64,name:string";
    const auto file = Make(credential, {"first", "", "third chunk"}, schema);
    const std::span<const std::byte> f(file);

    const Bytes magic = {std::byte{0x89}, std::byte{'Z'},  std::byte{'C'},  std::byte{'P'},
                         std::byte{'\r'}, std::byte{'\n'}, std::byte{0x1a}, std::byte{'\n'}};
    EXPECT_TRUE(std::equal(magic.begin(), magic.end(), file.begin()));
    EXPECT_EQ(LoadBig(f, kOffVersion, 2), 1u);
    EXPECT_EQ(LoadBig(f, kOffAlgorithm, 1), 1u);
    EXPECT_EQ(LoadBig(f, kOffKeySource, 1), passphrase ? 2u : 1u);
    EXPECT_EQ(LoadBig(f, kOffScryptLog2N, 4), passphrase ? 4u : 0u);
    EXPECT_EQ(LoadBig(f, kOffScryptR, 4), passphrase ? 8u : 0u);
    EXPECT_EQ(LoadBig(f, kOffScryptP, 4), passphrase ? 1u : 0u);
    EXPECT_EQ(SchemaSize(f), schema.size());
    EXPECT_EQ(ToString(f.subspan(kOffSchema, schema.size())), schema);
    EXPECT_EQ(HeaderSize(f), 156 + schema.size());

    Bytes file_key(32);
    if (passphrase) {
      ASSERT_EQ(
          EVP_PBE_scrypt("pw", 2, reinterpret_cast<const unsigned char*>(&file[kOffScryptSalt]), 16,
                         16, 8, 1, 0, reinterpret_cast<unsigned char*>(file_key.data()), 32),
          1);
    } else {
      const auto key = TestKey(9);
      std::copy(key.bytes().begin(), key.bytes().end(), file_key.begin());
    }
    const auto salt = f.subspan(kOffFileSalt, 32);
    const Bytes key_check = SpecHkdf(file_key, salt, "zcpipe/v1 key check", 16);
    const Bytes mac_key = SpecHkdf(file_key, salt, "zcpipe/v1 header mac key", 32);
    const Bytes payload_key = SpecHkdf(file_key, salt, "zcpipe/v1 payload key", 32);
    EXPECT_TRUE(std::equal(key_check.begin(), key_check.end(), f.begin() + KeyCheckOffset(f)));
    Bytes checksum(32);
    unsigned int size = 0;
    ASSERT_EQ(
        EVP_Digest(file.data(), ChecksumOffset(f),
                   reinterpret_cast<unsigned char*>(checksum.data()), &size, EVP_sha256(), nullptr),
        1);
    EXPECT_TRUE(std::equal(checksum.begin(), checksum.end(), f.begin() + ChecksumOffset(f)));
    const Bytes mac = SpecHmac(mac_key, f.first(MacOffset(f)));
    EXPECT_TRUE(std::equal(mac.begin(), mac.end(), f.begin() + MacOffset(f)));

    const auto split = Split(file);
    ASSERT_EQ(split.frames.size(), 3u);
    const std::vector<std::string> expected = {"first", "", "third chunk"};
    for (std::size_t i = 0; i < 3; ++i) {
      const auto& frame = split.frames[i];
      EXPECT_EQ(LoadBig(frame, 0, 8), i);
      EXPECT_EQ(LoadBig(frame, 8, 1), i == 2 ? 1u : 0u);
      EXPECT_EQ(LoadBig(frame, 9, 4), expected[i].size());
      EXPECT_EQ(frame.size(), expected[i].size() + 29);
      EXPECT_EQ(SpecOpen(payload_key, frame), expected[i]) << "frame " << i;
    }
  }
}

TEST_F(ContainerTest, ErrorsDescribeThemselves) {
  ContainerError error{ContainerErrc::kTamperedChunk, 3, 4242, 0, "authentication failed"};
  EXPECT_EQ(Describe(error), "tampered chunk (chunk 3, byte 4242): authentication failed");
  ContainerError io{ContainerErrc::kIo, {}, {}, ENOENT, "open x"};
  EXPECT_EQ(Describe(io), "i/o error: open x: No such file or directory");
}

}  // namespace
}  // namespace zcpipe::stages
