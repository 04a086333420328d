// Issue 25 item 5: `zcpipe run --encoding` converts Latin-1, windows-1252 and UTF-16 input to
// UTF-8 as it reads it, in process and isolated; the files of tests/data/encoding/ import as
// their UTF-8 text does, value for value. Bad bytes fail naming file, line and input offset.
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

const std::string kData = ZCPIPE_TEST_DATA "/encoding/";

struct EncodedFile {
  std::string name, utf8, encoding;  // encoding: "" (none given)
};

const std::vector<EncodedFile> kFiles{
    {"latin1.csv", "latin1.utf8.csv", "latin1"},
    {"latin1.jsonl", "latin1.utf8.jsonl", "latin1"},
    {"windows-1252.csv", "windows-1252.utf8.csv", "windows-1252"},
    {"utf-16le-bom.csv", "utf-16.utf8.csv", "utf-16"},
    {"utf-16be-bom.csv", "utf-16.utf8.csv", "utf-16"},
    {"utf-16le-bom-crlf.csv", "utf-16.utf8.csv", "utf-16le"},
    {"utf-16le-bom.jsonl", "utf-16.utf8.jsonl", ""},  // the byte order mark decides
    {"utf-16be-bom.csv", "utf-16.utf8.csv", ""},
};

class EncodingOptionTest : public CliTest {
 protected:
  // `zcpipe run INPUT EXTRA` then `zcpipe export` as CSV: the exported text.
  std::string ImportExport(const std::string& input, const std::string& extra) {
    std::filesystem::remove(dir_ / "out.zcp");
    const auto run = Run("run '" + input + "' -o out.zcp -k key " + extra);
    EXPECT_EQ(run.exit_code, 0) << input << ' ' << extra << ": " << run.err;
    const auto exported = Run("export out.zcp --to csv -o - -k key");
    EXPECT_EQ(exported.exit_code, 0) << exported.err;
    return exported.out;
  }
};

TEST_F(EncodingOptionTest, EachEncodedFileImportsAsItsUtf8TextInProcessAndIsolated) {
  for (const auto& file : kFiles) {
    const std::string expected = ImportExport(kData + file.utf8, "");
    ASSERT_FALSE(expected.empty());
    const std::string encoding = file.encoding.empty() ? "" : " --encoding " + file.encoding;
    EXPECT_EQ(ImportExport(kData + file.name, encoding), expected) << file.name;
    EXPECT_EQ(ImportExport(kData + file.name, encoding + " --isolate --workers 2"), expected)
        << file.name << " --isolate";
  }
}

TEST_F(EncodingOptionTest, StatsSayWhichEncodingWasRead) {
  const auto named =
      Run("run " + kData + "latin1.csv -o a.zcp -k key --encoding latin1 --stats json");
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_TRUE(Contains(named.out, "\"encoding\":\"latin1\"")) << named.out;
  const auto marked = Run("run " + kData + "utf-16be-bom.csv -o b.zcp -k key --stats json");
  ASSERT_EQ(marked.exit_code, 0) << marked.err;
  EXPECT_TRUE(Contains(marked.out, "\"encoding\":\"utf-16be\"")) << marked.out;
}

TEST_F(EncodingOptionTest, StandardInputIsConvertedToo) {
  const std::string expected = ImportExport(kData + "windows-1252.utf8.csv", "");
  EXPECT_EQ(
      ImportExport("-", "--format csv --encoding windows-1252 < " + kData + "windows-1252.csv"),
      expected);
}

TEST_F(EncodingOptionTest, AByteThatIsNoCharacterFailsNamingFileLineAndInputOffset) {
  std::ofstream(dir_ / "bad.csv", std::ios::binary) << "id,name\n1,\x80\n2,a\x81z\n";
  for (const std::string placement : {"", " --isolate"}) {
    const auto run = Run("run bad.csv -o out.zcp -k key --encoding windows-1252" + placement);
    EXPECT_EQ(run.exit_code, 3) << run.err;
    EXPECT_TRUE(Contains(run.err,
                         "bad.csv:3: line 3 (byte 15): invalid windows-1252: byte 0x81 "
                         "is no windows-1252 character"))
        << run.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out.zcp"));
  }
}

TEST_F(EncodingOptionTest, Utf16WithoutAByteOrderMarkAsksForTheByteOrder) {
  std::ofstream(dir_ / "bare.csv", std::ios::binary) << std::string("i\0d\0\n\0001\0\n\0", 10);
  const auto run = Run("run bare.csv -o out.zcp -k key --encoding utf-16");
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_TRUE(Contains(run.err, "bare.csv")) << run.err;
  EXPECT_TRUE(Contains(run.err, "pass --encoding utf-16le or utf-16be")) << run.err;
  EXPECT_EQ(Run("run bare.csv -o out.zcp -k key --encoding utf-16le").exit_code, 0);
}

TEST_F(EncodingOptionTest, AnUnknownEncodingIsAUsageErrorListingTheKnownOnes) {
  const auto run = Run("run in.csv -o out.zcp -k key --encoding ebcdic");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(Contains(run.err,
                       "'ebcdic' is not one of: latin1, utf-16, utf-16be, utf-16le, "
                       "utf-8, windows-1252"))
      << run.err;
}

// Offsets in errors and rejects are the input file's, not the converted text's: a user seeks
// there, and a resume does.
TEST_F(EncodingOptionTest, RejectedRowsNameTheirOffsetInTheInputFile) {
  // Latin-1: each é is one byte (two in UTF-8), so the bad row starts at byte 18, not 22.
  std::ofstream(dir_ / "rows.csv", std::ios::binary) << "id,name\n1,\xE9\xE9\xE9\n2,\xE9\nx,b\n";
  for (const std::string placement : {"", " --isolate"}) {
    std::filesystem::remove(dir_ / "rejects.jsonl");
    const auto run =
        Run("run rows.csv -o out.zcp -k key -f --encoding latin1 --schema "
            "id:int64,name --on-error quarantine --rejects rejects.jsonl" +
            placement);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(Contains(run.err, "rows.csv:4: line 4 (byte 18)")) << run.err;
    EXPECT_TRUE(Contains(Read("rejects.jsonl"), "\"line\":4,\"byte\":18")) << Read("rejects.jsonl");
  }
}

}  // namespace
}  // namespace zcpipe::cli
