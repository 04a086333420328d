#include "csv/csv_scan.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace zcpipe::stages::detail {
namespace {

// The bits of one 64-byte block: bit i describes byte i.
struct BlockBits {
  std::uint64_t quote;
  std::uint64_t delimiter;
  std::uint64_t newline;
  std::uint64_t cr;
  bool high;  // some byte >= 0x80 (not ASCII)
};

#if defined(__SSE2__)
// 16 bytes at a time: one compare per character class, one movemask per compare.
BlockBits ClassifyFull(const char* data, char delimiter, char quote) {
  const __m128i q = _mm_set1_epi8(quote), d = _mm_set1_epi8(delimiter);
  const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  BlockBits bits{0, 0, 0, 0, false};
  int high = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i));
    const auto shift = static_cast<unsigned>(16 * i);
    auto mask = [&](__m128i c) {
      return static_cast<std::uint64_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c))) << shift;
    };
    bits.quote |= mask(q);
    bits.delimiter |= mask(d);
    bits.newline |= mask(nl);
    bits.cr |= mask(cr);
    high |= _mm_movemask_epi8(v);
  }
  bits.high = high != 0;
  return bits;
}
#else
BlockBits ClassifyFull(const char* data, char delimiter, char quote) {
  BlockBits bits{0, 0, 0, 0, false};
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    bits.quote |= data[i] == quote ? bit : 0;
    bits.delimiter |= data[i] == delimiter ? bit : 0;
    bits.newline |= data[i] == '\n' ? bit : 0;
    bits.cr |= data[i] == '\r' ? bit : 0;
    bits.high |= static_cast<unsigned char>(data[i]) >= 0x80;
  }
  return bits;
}
#endif

// Classifies data[0, n), n <= 64; bytes past n count as nothing.
BlockBits Classify(const char* data, std::size_t n, char delimiter, char quote) {
  if (n == 64) return ClassifyFull(data, delimiter, quote);
  char padded[64] = {};
  std::memcpy(padded, data, n);
  BlockBits bits = ClassifyFull(padded, delimiter, quote);
  const std::uint64_t valid = n == 0 ? 0 : (~std::uint64_t{0} >> (64 - n));
  bits.quote &= valid;
  bits.delimiter &= valid;
  bits.newline &= valid;
  bits.cr &= valid;
  return bits;
}

// Bit i set when byte i is inside quotes after it (an opening quote counts as inside, a
// closing one as outside), given whether the block starts inside; updates `in_quote`.
std::uint64_t InsideQuotes(std::uint64_t quote_bits, bool& in_quote) {
  std::uint64_t x = quote_bits;  // prefix XOR: bit i = parity of the quotes at positions <= i
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  if (in_quote) x = ~x;
  in_quote = (x >> 63) != 0;
  return x;
}

// Whether every quote is well placed (see csv_scan.h), block by block.
class QuotePlacement {
 public:
  void Check(const BlockBits& bits, std::uint64_t inside) {
    const std::uint64_t separators = bits.delimiter | bits.newline;
    const std::uint64_t opening = bits.quote & inside;
    const std::uint64_t closing = bits.quote & ~inside;
    const std::uint64_t may_follow_close = separators | bits.cr | bits.quote;
    if (close_at_end_ && (may_follow_close & 1) == 0) ok_ = false;
    const std::uint64_t after_separator = (separators << 1) | (separator_at_end_ ? 1 : 0);
    const std::uint64_t after_close = (closing << 1) | (close_at_end_ ? 1 : 0);
    if ((opening & ~(after_separator | after_close)) != 0) ok_ = false;
    // A closing quote in the last byte is checked against the next block's first byte.
    if ((closing & ~(may_follow_close >> 1) & ~(std::uint64_t{1} << 63)) != 0) ok_ = false;
    separator_at_end_ = (separators >> 63) != 0;
    close_at_end_ = (closing >> 63) != 0;
  }
  // A short last block: what follows its last byte is the end of the text.
  void CheckLast(const BlockBits& bits, std::uint64_t inside, std::size_t n) {
    const std::uint64_t end_bit = std::uint64_t{1} << n;  // n < 64
    BlockBits extended = bits;
    extended.cr |= end_bit;  // anything may follow a closing quote at the very end
    Check(extended, inside);
    close_at_end_ = false;
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  bool ok_ = true;
  bool separator_at_end_ = true;  // the text starts at a field start
  bool close_at_end_ = false;
};

// RFC 4180 exactly, one byte at a time: for text with misplaced quotes. Calls
// on_separator(offset) for each delimiter or newline outside quotes; returns whether the text
// ends inside a quoted field.
template <class OnSeparator>
bool ScanStrict(const char* data, std::size_t n, char delimiter, char quote,
                OnSeparator&& on_separator) {
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted } state = State::kFieldStart;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = data[i];
    const bool separator = c == delimiter || c == '\n';
    switch (state) {
      case State::kFieldStart:
      case State::kUnquoted:
      case State::kQuoteInQuoted:
        if (separator) {
          on_separator(i);
          state = State::kFieldStart;
        } else if (c == quote && state != State::kUnquoted) {
          state = State::kQuoted;  // an opening quote, or the second quote of a "" escape
        } else {
          state = State::kUnquoted;  // a stray quote, or text after a closing quote
        }
        break;
      case State::kQuoted:
        if (c == quote) state = State::kQuoteInQuoted;
        break;
    }
  }
  return state == State::kQuoted;
}

// Scans data[0, n) 64 bytes at a time, calling on_block(base, bits, outside) for each block,
// `outside` holding the bits of the bytes outside quotes. Returns whether the text ends inside
// a quoted field, or nullopt when a quote was misplaced: then quote parity is not RFC 4180
// quoting, what on_block was told past that quote is wrong, and the caller rescans the text
// with ScanStrict. (Going on to the end costs less than telling the caller when to stop.)
template <class OnBlock>
std::optional<bool> ScanBlocks(const char* data, std::size_t n, char delimiter, char quote,
                               OnBlock&& on_block) {
  const std::uint64_t quoting = quote == 0 ? 0 : ~std::uint64_t{0};
  const std::uint64_t delimiting = delimiter == 0 ? 0 : ~std::uint64_t{0};
  QuotePlacement placement;
  bool in_quote = false;
  for (std::size_t base = 0; base < n; base += 64) {
    const std::size_t size = std::min<std::size_t>(64, n - base);
    BlockBits bits = Classify(data + base, size, delimiter, quote);
    bits.quote &= quoting;
    bits.delimiter &= delimiting;
    const std::uint64_t inside = InsideQuotes(bits.quote, in_quote);
    if (delimiter != 0) {  // else any quote is well placed: parity is the answer
      size < 64 ? placement.CheckLast(bits, inside, size) : placement.Check(bits, inside);
    }
    on_block(base, bits, ~inside);
  }
  return placement.ok() ? std::optional(in_quote) : std::nullopt;
}

}  // namespace

ScanSummary FindSeparators(const char* data, std::size_t n, char delimiter, char quote,
                           std::vector<std::uint32_t>& separators) {
  ScanSummary summary;
  const std::size_t first = separators.size();
  auto ends_in_quote =
      ScanBlocks(data, n, delimiter, quote,
                 [&](std::size_t base, const BlockBits& bits, std::uint64_t outside) {
                   summary.non_ascii |= bits.high;
                   summary.any_quote |= bits.quote != 0;
                   std::uint64_t structural = (bits.delimiter | bits.newline) & outside;
                   while (structural != 0) {
                     separators.push_back(static_cast<std::uint32_t>(base) +
                                          static_cast<std::uint32_t>(std::countr_zero(structural)));
                     structural &= structural - 1;
                   }
                 });
  if (!ends_in_quote) {
    separators.resize(first);
    ends_in_quote = ScanStrict(data, n, delimiter, quote, [&](std::size_t i) {
      separators.push_back(static_cast<std::uint32_t>(i));
    });
  }
  summary.ends_in_quote = *ends_in_quote;
  return summary;
}

Boundary FindBoundary(const char* data, std::size_t n, char delimiter, char quote) {
  // No quoting, or no quote among these bytes (most chunks of most files): the last newline.
  // memchr runs several times faster than classifying every block.
  if (quote == 0 || std::memchr(data, quote, n) == nullptr) {
    const char* end = static_cast<const char*>(::memrchr(data, '\n', n));
    return {end == nullptr ? 0 : static_cast<std::size_t>(end - data) + 1, false};
  }
  Boundary result;
  auto ends_in_quote =
      ScanBlocks(data, n, delimiter, quote,
                 [&](std::size_t base, const BlockBits& bits, std::uint64_t outside) {
                   const std::uint64_t ends = bits.newline & outside;
                   if (ends != 0)
                     result.end = base + static_cast<std::size_t>(64 - std::countl_zero(ends));
                 });
  if (!ends_in_quote) {
    result.end = 0;
    ends_in_quote = ScanStrict(data, n, delimiter, quote, [&](std::size_t i) {
      if (data[i] == '\n') result.end = i + 1;
    });
  }
  result.ends_in_quote = *ends_in_quote;
  return result;
}

std::uint64_t CountNewlines(const char* data, std::size_t n) {
  std::uint64_t count = 0;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Byte counters (a match is -1, so subtracting counts up), summed every 255 rounds with
  // SAD before they can wrap. No popcount: baseline x86-64 has no POPCNT instruction.
  const __m128i nl = _mm_set1_epi8('\n');
  while (i + 16 <= n) {
    __m128i counters = _mm_setzero_si128();
    for (int round = 0; round < 255 && i + 16 <= n; ++round, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
      counters = _mm_sub_epi8(counters, _mm_cmpeq_epi8(v, nl));
    }
    const __m128i sums = _mm_sad_epu8(counters, _mm_setzero_si128());
    count += static_cast<std::uint64_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < n; ++i) count += data[i] == '\n' ? 1 : 0;
  return count;
}

}  // namespace zcpipe::stages::detail
