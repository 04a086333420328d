// Input encodings (issue 25 item 5): the iconv Decoder, the Chunker converting to UTF-8 as it
// reads, and offsets mapped back to the input.
#include "zcpipe/stages/encoding.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "input/decoder.h"
#include "temp_file.h"
#include "zcpipe/stages/chunker.h"

namespace zcpipe::stages {
namespace {

std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

using zcpipe::testing::TempFile;

// Text as UTF-16 (LE or BE) from ASCII and the code points given as \u escapes by the caller.
std::string Utf16(const std::u16string& text, bool little_endian) {
  std::string bytes;
  for (const char16_t unit : text) {
    const auto low = static_cast<char>(unit & 0xFF), high = static_cast<char>(unit >> 8);
    bytes += little_endian ? low : high;
    bytes += little_endian ? high : low;
  }
  return bytes;
}

struct Read {
  std::string text;                    // every chunk, joined
  std::vector<std::uint64_t> offsets;  // each chunk's first_byte
  std::uint64_t next_byte = 0;
  Encoding encoding = Encoding::kUtf8;
  std::optional<StageError> error;
};

Read ReadAll(const std::string& path, ChunkerOptions options, std::size_t block_size = 64) {
  Read read;
  auto chunker = Chunker::Open(path, options);
  if (!chunker) {
    read.error = chunker.error();
    return read;
  }
  std::vector<std::byte> block(block_size);
  for (;;) {
    auto next = chunker->Next(block);
    if (!next) {
      read.error = next.error();
      break;
    }
    if (!*next) break;
    read.text.append(reinterpret_cast<const char*>((*next)->bytes.data()), (*next)->bytes.size());
    read.offsets.push_back((*next)->first_byte);
  }
  read.next_byte = chunker->next_byte();
  read.encoding = chunker->encoding();
  return read;
}

TEST(Decoder, ACharacterSplitAcrossPiecesIsCarriedOver) {
  // "aé😀\n" in UTF-16LE: the emoji is a surrogate pair, 4 bytes; feed one byte at a time.
  const std::string input = Utf16(u"a\u00e9\U0001F600\n", true);
  auto decoder = detail::Decoder::Open(Encoding::kUtf16Le);
  ASSERT_TRUE(decoder);
  std::string pending, out;
  std::vector<std::byte> room(16);
  for (const char byte : input) {
    pending += byte;
    const auto step = decoder->Convert(AsBytes(pending), room);
    ASSERT_NE(step.stop, detail::Decoder::Stop::kInvalid);
    out.append(reinterpret_cast<const char*>(room.data()), step.produced);
    pending.erase(0, step.consumed);
  }
  EXPECT_EQ(pending, "");
  EXPECT_EQ(out, "a\xC3\xA9\xF0\x9F\x98\x80\n");
}

TEST(Decoder, StopsWhenTheOutputIsFull) {
  auto decoder = detail::Decoder::Open(Encoding::kWindows1252);
  ASSERT_TRUE(decoder);
  std::vector<std::byte> room(4);
  const auto step = decoder->Convert(AsBytes("\x80\x80"), room);  // € is 3 bytes in UTF-8
  EXPECT_EQ(step.stop, detail::Decoder::Stop::kFull);
  EXPECT_EQ(step.consumed, 1U);
  EXPECT_EQ(step.produced, 3U);
}

TEST(Decoder, BytesThatAreNoCharacterAreInvalidWithTheReason) {
  struct Case {
    Encoding encoding;
    std::string input, reason;
    std::size_t consumed;
  };
  const std::vector<Case> cases{
      {Encoding::kWindows1252, "ab\x81z", "byte 0x81 is no windows-1252 character", 2},
      {Encoding::kUtf16Le, Utf16(u"a", true) + "\x3D\xD8" + Utf16(u"b", true),
       "high surrogate 0xD83D without a low surrogate after it", 2},
      {Encoding::kUtf16Be, Utf16(u"a", false) + std::string("\xDC\x00", 2),
       "low surrogate 0xDC00 without a high surrogate before it", 2},
  };
  for (const auto& c : cases) {
    auto decoder = detail::Decoder::Open(c.encoding);
    ASSERT_TRUE(decoder);
    std::vector<std::byte> room(64);
    const auto step = decoder->Convert(AsBytes(c.input), room);
    EXPECT_EQ(step.stop, detail::Decoder::Stop::kInvalid) << c.reason;
    EXPECT_EQ(step.consumed, c.consumed) << c.reason;
    EXPECT_EQ(decoder->Invalid(AsBytes(c.input).subspan(step.consumed)), c.reason);
  }
}

TEST(Encoding, RowOffsetsInConvertedTextMapToTheInput) {
  // Chunk at input offset 100, converted from UTF-16: "é\n😀\nx\n" (2+2 | 4+2 | 2+2 bytes).
  const std::string text = "\xC3\xA9\n\xF0\x9F\x98\x80\nx\n";
  const auto row = [](std::uint64_t offset) {
    return InputError{InputErrc::kBadInt64, 0, offset, {}, {}, {}};
  };
  InputErrors rows{row(100 + 8), row(100 + 3), row(40)};  // "x", the emoji, the Chunker's
  ToInputOffsets(Encoding::kUtf16Le, AsBytes(text), 100, rows);
  EXPECT_EQ(rows[0].byte_offset, 100U + 10);
  EXPECT_EQ(rows[1].byte_offset, 100U + 4);
  EXPECT_EQ(rows[2].byte_offset, 40U);
  InputErrors latin1{row(3)};
  ToInputOffsets(Encoding::kLatin1, AsBytes("\xC3\xA9\nx\n"), 0, latin1);  // é is 1 byte
  EXPECT_EQ(latin1[0].byte_offset, 2U);
}

TEST(Chunker, ConvertsWindows1252ToUtf8WithChunkOffsetsInTheInput) {
  const std::string input = "id,name\n1,\x80uro\n2,\x93quoted\x94\n3,caf\xE9\n";
  TempFile file(input);
  const auto read = ReadAll(file.path(), {.chunk_size = 8, .encoding = Encoding::kWindows1252}, 16);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.text,
            "id,name\n1,\xE2\x82\xACuro\n2,\xE2\x80\x9Cquoted\xE2\x80\x9D\n3,caf\xC3\xA9\n");
  EXPECT_EQ(read.offsets, (std::vector<std::uint64_t>{0, 8, 15, 26}));  // each line's, in input
  EXPECT_EQ(read.next_byte, input.size());
}

TEST(Chunker, AUtf16ByteOrderMarkDecidesWithoutAnEncoding) {
  for (const bool little : {true, false}) {
    TempFile file(Utf16(u"\uFEFFa,b\r\n\u00DF,\U0001F600\r\n", little));
    const auto read = ReadAll(file.path(), {.chunk_size = 4}, 16);
    ASSERT_FALSE(read.error) << read.error->message;
    EXPECT_EQ(read.encoding, little ? Encoding::kUtf16Le : Encoding::kUtf16Be);
    // The mark stays, as UTF-8 (the parsers skip it), so that offsets map one to one.
    EXPECT_EQ(read.text,
              "\xEF\xBB\xBF"
              "a,b\r\n\xC3\x9F,\xF0\x9F\x98\x80\r\n");
    EXPECT_EQ(read.offsets, (std::vector<std::uint64_t>{0, 12}));
    EXPECT_EQ(read.next_byte, 24U);
  }
}

TEST(Chunker, Utf16WithoutAByteOrderMarkOrWithTheOtherOneIsRefused) {
  TempFile bare(Utf16(u"a\n", true));
  auto read = ReadAll(bare.path(), {.encoding = Encoding::kUtf16});
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->code, StageErrc::kBadEncoding);
  EXPECT_EQ(read.error->message,
            bare.path() +
                ":1: line 1 (byte 0): invalid utf-16: utf-16 input must start with a "
                "byte order mark: pass --encoding utf-16le or utf-16be");
  TempFile big_endian(Utf16(u"\uFEFFa\n", false));
  read = ReadAll(big_endian.path(), {.encoding = Encoding::kUtf16Le});
  ASSERT_TRUE(read.error);
  EXPECT_NE(read.error->message.find("starts with the byte order mark of utf-16be, not utf-16le"),
            std::string::npos)
      << read.error->message;
}

TEST(Chunker, AnEmptyUtf16InputIsEmptyNotRefused) {
  TempFile empty("");
  const auto read = ReadAll(empty.path(), {.encoding = Encoding::kUtf16});
  EXPECT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.text, "");
}

TEST(Chunker, AByteThatIsNoCharacterIsAnErrorNamingItsLineAndInputOffset) {
  TempFile file("id,name\n1,\x80\n2,a\x81z\n");
  const auto read = ReadAll(file.path(), {.encoding = Encoding::kWindows1252});
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->code, StageErrc::kBadEncoding);
  EXPECT_EQ(read.error->message, file.path() +
                                     ":3: line 3 (byte 15): invalid windows-1252: "
                                     "byte 0x81 is no windows-1252 character");
}

TEST(Chunker, AnInputEndingInsideACharacterIsAnError) {
  TempFile file(Utf16(u"\uFEFFa\n", true) + "b");
  const auto read = ReadAll(file.path(), {.encoding = Encoding::kUtf16});
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->message,
            file.path() +
                ":2: line 2 (byte 6): invalid utf-16le: the input ends inside a "
                "character (1 byte(s) left over)");
}

TEST(Chunker, ACharacterSplitAcrossReadsIsWhole) {
  // A surrogate pair across the 128 KiB the Chunker reads at a time: 2 + 2 * 65533 bytes before.
  std::u16string text = u"\uFEFF";
  text.append(65533, u'a');
  text += u"\U0001F600\n";
  TempFile file(Utf16(text, true));
  const auto read = ReadAll(file.path(), {.chunk_size = 1U << 20}, 1U << 21);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_TRUE(read.text.ends_with("a\xF0\x9F\x98\x80\n"));
  EXPECT_EQ(read.text.size(), 3 + 65533 + 4 + 1U);
}

TEST(Chunker, ResumingUtf16ReadsTheByteOrderMarkAtTheInputsStart) {
  TempFile file(Utf16(u"\uFEFFa\n\u00E9\n", true));
  const auto read = ReadAll(file.path(), {.start_byte = 6, .start_line = 2});
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.encoding, Encoding::kUtf16Le);
  EXPECT_EQ(read.text, "\xC3\xA9\n");
  EXPECT_EQ(read.offsets, (std::vector<std::uint64_t>{6}));
}

TEST(Chunker, Utf8IsReadAsIs) {
  TempFile file("\xEF\xBB\xBFid\n\xC3\xA9\n");
  const auto read = ReadAll(file.path(), {});
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.encoding, Encoding::kUtf8);
  EXPECT_EQ(read.text, "\xEF\xBB\xBFid\n\xC3\xA9\n");
}

}  // namespace
}  // namespace zcpipe::stages
