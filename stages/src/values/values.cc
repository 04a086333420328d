#include "values/values.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

namespace zcpipe::stages::detail {
namespace {

bool EqualsIgnoreCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
    if (c != lower[i]) return false;
  }
  return true;
}

// Reads exactly `digits` decimal digits at text[pos].
std::optional<int> Digits(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  bool ok = true;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    const auto digit = static_cast<unsigned>(text[i] - '0');
    ok &= digit <= 9;
    value = value * 10 + static_cast<int>(digit);
  }
  return ok ? std::optional<int>(value) : std::nullopt;
}

}  // namespace

std::optional<std::int64_t> ParseInt64(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (!text.empty() && (negative || text.front() == '+')) text.remove_prefix(1);
  // Up to 18 digits cannot overflow: the common case, without from_chars' generality.
  if (text.empty() || text.size() > 18) {
    // The magnitude as unsigned: from_chars then takes no second sign (it would for a signed
    // type), and the negative extreme, which has no positive twin, fits.
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude);
    const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : INT64_MAX;
    if (ec != std::errc() || end != text.data() + text.size() || magnitude > limit) {
      return std::nullopt;  // an empty text too: from_chars says invalid_argument
    }
    return static_cast<std::int64_t>(negative ? 0 - magnitude : magnitude);
  }
  std::int64_t value = 0;
  for (const char c : text) {
    const auto digit = static_cast<unsigned>(c - '0');
    if (digit > 9) return std::nullopt;
    value = value * 10 + static_cast<std::int64_t>(digit);
  }
  return negative ? -value : value;
}

namespace {

// Clinger's fast path: "ddd.ddd" with at most 15 significant digits is an integer below 2^53
// divided by an exact power of ten, and one IEEE division rounds that correctly. Such a text
// is also held exactly (a double has 15 decimal digits of precision: DBL_DIG). Nothing for
// other texts.
std::optional<double> FastFloat64(std::string_view text) {
  static constexpr double kPowers[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  std::int64_t mantissa = 0;
  int count = 0, fraction = -1;
  if (text.empty() || text.size() > 16) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && fraction < 0 && i > 0 && i + 1 < text.size()) {
      fraction = 0;
    } else if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + (c - '0');
      ++count;
      fraction += fraction >= 0 ? 1 : 0;
    } else {
      return std::nullopt;
    }
  }
  if (count > 15) return std::nullopt;
  const double value = static_cast<double>(mantissa) / kPowers[fraction < 0 ? 0 : fraction];
  return negative ? -value : value;
}

// std::from_chars on `text` without a leading '+' (which it does not take).
std::from_chars_result FromChars(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc() && (text.empty() || result.ptr != text.data() + text.size())) {
    result.ec = std::errc::invalid_argument;
  }
  return result;
}

// A decimal number as sign, significant digits (no leading or trailing zeros; none for zero)
// and the power of ten of the first digit: "-0.0120e3" is -, "12", 1 (-1.2e1).
struct Decimal {
  static constexpr int kMaxDigits = 24;  // more than any double's shortest or fixed form has
  bool negative = false;
  int count = 0;
  char digits[kMaxDigits] = {};
  long exponent = 0;

  friend bool operator==(const Decimal& a, const Decimal& b) {
    return a.negative == b.negative && a.count == b.count && a.exponent == b.exponent &&
           std::equal(a.digits, a.digits + a.count, b.digits);
  }
};

// Reads `text`, REQUIRES: a number std::from_chars read whole ([+-]d*[.d*][(e|E)[+-]d+]).
// False when it has more than kMaxDigits significant digits (then no double prints as it).
bool ReadDecimal(std::string_view text, Decimal& out) {
  std::size_t i = 0;
  out.negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) ++i;
  long position = 0, first = -1, whole_digits = -1;
  int zeros = 0;  // zeros after the last nonzero digit: significant only if one follows
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      whole_digits = position;
      continue;
    }
    if (text[i] == '0') {
      zeros += first >= 0 ? 1 : 0;
    } else {
      if (first < 0) first = position;
      if (out.count + zeros + 1 > Decimal::kMaxDigits) return false;
      for (; zeros > 0; --zeros) out.digits[out.count++] = '0';
      out.digits[out.count++] = text[i];
    }
    ++position;
  }
  if (whole_digits < 0) whole_digits = position;
  long power = 0;  // the exponent, saturated far beyond any double's
  if (i < text.size()) {
    const bool negative = text[++i] == '-';
    if (text[i] == '-' || text[i] == '+') ++i;
    for (; i < text.size(); ++i) power = std::min(power * 10 + (text[i] - '0'), 1'000'000L);
    if (negative) power = -power;
  }
  out.exponent = first < 0 ? 0 : whole_digits - 1 - first + power;
  return true;
}

}  // namespace

std::optional<double> ParseFloat64(std::string_view text) {
  if (const auto fast = FastFloat64(text)) return fast;
  double value = 0;
  if (FromChars(text, value).ec != std::errc()) return std::nullopt;
  return value;
}

std::optional<double> ParseExactFloat64(std::string_view text) {
  if (const auto fast = FastFloat64(text)) return fast;
  double value = 0;
  if (FromChars(text, value).ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  char shortest[kFloat64Chars];
  const auto printed =
      std::to_chars(shortest, shortest + sizeof shortest, value, std::chars_format::scientific);
  Decimal written, held;
  if (!ReadDecimal(text, written) || !ReadDecimal({shortest, printed.ptr}, held) ||
      !(written == held)) {
    return std::nullopt;
  }
  return value;
}

char* FormatFloat64(double value, char* out) {
  char* const end = std::to_chars(out, out + kFloat64Chars, value).ptr;
  // Below 2^53 an integral double is its shortest decimal; above, to_chars may write out the
  // binary value's digits (2^60: 1152921504606846976, where the shortest is 1152921504606847e3).
  if (!(std::fabs(value) >= 0x1p53) || std::find(out, end, 'e') != end) return end;
  char scientific[kFloat64Chars];
  const auto shortest = std::to_chars(scientific, scientific + sizeof scientific, value,
                                      std::chars_format::scientific)
                            .ptr;
  Decimal plain, digits;
  if (ReadDecimal({out, end}, plain) && ReadDecimal({scientific, shortest}, digits) &&
      plain == digits) {
    return end;
  }
  return std::copy(scientific, shortest, out);
}

bool Float64HoldsInt64(std::int64_t value) {
  if (value >= -(std::int64_t{1} << 53) && value <= std::int64_t{1} << 53) return true;
  char text[24];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return ParseExactFloat64({text, static_cast<std::size_t>(end - text)}).has_value();
}

std::optional<bool> ParseBool(std::string_view text) {
  // true, t, 1, yes / false, f, 0, no, in any case: by length, one comparison at most.
  switch (text.size()) {
    case 1:
      if (EqualsIgnoreCase(text, "t") || text == "1") return true;
      if (EqualsIgnoreCase(text, "f") || text == "0") return false;
      break;
    case 2:
      if (EqualsIgnoreCase(text, "no")) return false;
      break;
    case 3:
      if (EqualsIgnoreCase(text, "yes")) return true;
      break;
    case 4:
      if (EqualsIgnoreCase(text, "true")) return true;
      break;
    case 5:
      if (EqualsIgnoreCase(text, "false")) return false;
      break;
  }
  return std::nullopt;
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after Howard Hinnant's
// days_from_civil; checks that the date exists.
std::optional<std::int64_t> DaysFromCivil(int y, int m, int d) {
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDaysIn[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return std::int64_t{era} * 146097 + doe - 719468;
}

namespace {

constexpr std::string_view kYearRange = "outside years 0000-9999";

// Why a text is no value of the temporal type whose form it has.
enum class TemporalFault { kNone, kSubMicrosecond, kLeapSecond, kRange };

// What ReadTemporal makes of a text: the temporal type whose form it has, if any, and its value
// as that type (when fault is kNone).
struct TemporalReading {
  std::optional<ColumnType> form;
  TemporalFault fault = TemporalFault::kNone;
  std::int64_t value = 0;
};

TemporalReading ReadTemporal(std::string_view text) {
  TemporalReading reading;
  const auto y = Digits(text, 0, 4), m = Digits(text, 5, 2), d = Digits(text, 8, 2);
  if (!y || !m || !d || text[4] != '-' || text[7] != '-') return reading;
  const auto days = DaysFromCivil(*y, *m, *d);
  if (!days) return reading;
  if (text.size() == 10) {  // years 0000-9999 are all in range
    reading.form = ColumnType::kDate;
    reading.value = *days;
    return reading;
  }
  if (text[10] != 'T' && text[10] != ' ') return reading;
  const auto hh = Digits(text, 11, 2), mm = Digits(text, 14, 2), ss = Digits(text, 17, 2);
  if (!hh || !mm || !ss || text[13] != ':' || text[16] != ':' || *hh > 23 || *mm > 59 || *ss > 60) {
    return reading;
  }
  std::int64_t micros = *days * 86'400'000'000LL + ((*hh * 60LL + *mm) * 60LL + *ss) * 1'000'000LL;
  std::size_t pos = 19;
  bool finer = false;  // a nonzero digit beyond microseconds
  if (pos < text.size() && text[pos] == '.') {
    std::int64_t fraction = 0;
    int digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 6) fraction = fraction * 10 + (text[pos] - '0');
      finer |= digits >= 6 && text[pos] != '0';
    }
    if (digits == 0) return reading;
    for (int i = digits; i < 6; ++i) fraction *= 10;
    micros += fraction;
  }
  ColumnType form = ColumnType::kDateTime;  // no zone: a local time
  if (pos < text.size() && text[pos] == 'Z' && pos + 1 == text.size()) {
    form = ColumnType::kTimestamp;
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-') &&
             pos + 6 == text.size() && text[pos + 3] == ':') {
    const auto zh = Digits(text, pos + 1, 2), zm = Digits(text, pos + 4, 2);
    if (!zh || !zm || *zh > 23 || *zm > 59) return reading;
    const std::int64_t offset = (*zh * 60LL + *zm) * 60'000'000LL;
    micros += text[pos] == '+' ? -offset : offset;
    form = ColumnType::kTimestamp;
    pos = text.size();
  }
  if (pos != text.size()) return reading;
  // The form is right: now what it would lose.
  reading.form = form;
  reading.value = micros;
  if (finer) {
    reading.fault = TemporalFault::kSubMicrosecond;
  } else if (*ss == 60) {
    reading.fault = TemporalFault::kLeapSecond;
  } else if (!IsTimestamp(micros)) {
    reading.fault = TemporalFault::kRange;
  }
  return reading;
}

// Why a text of the temporal form `found` is no value of the temporal type `wanted`.
const char* OtherFormNote(ColumnType wanted, ColumnType found) {
  if (wanted == ColumnType::kTimestamp) return "no zone: a timestamp needs Z or an offset";
  if (wanted == ColumnType::kDate) return "a time of day: a date holds days";
  return found == ColumnType::kTimestamp ? "a zone: a datetime is a local time"
                                         : "no time of day: a datetime needs one";
}

}  // namespace

std::optional<std::int64_t> ParseTemporal(ColumnType type, std::string_view text) {
  const auto reading = ReadTemporal(text);
  if (reading.form != type || reading.fault != TemporalFault::kNone) return std::nullopt;
  return reading.value;
}

std::optional<ColumnType> TemporalTypeOf(std::string_view text) {
  const auto reading = ReadTemporal(text);
  if (reading.fault != TemporalFault::kNone) return std::nullopt;
  return reading.form;
}

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  return ParseTemporal(ColumnType::kTimestamp, text);
}

std::string FormatTemporal(ColumnType type, std::int64_t value) {
  using namespace std::chrono;
  const sys_time<microseconds> time{
      type == ColumnType::kDate ? microseconds{value * 86'400'000'000LL} : microseconds{value}};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  char text[40];
  int n = std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  if (type != ColumnType::kDate) {
    const hh_mm_ss clock{time - day};
    n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "T%02d:%02d:%02d",
                       static_cast<int>(clock.hours().count()),
                       static_cast<int>(clock.minutes().count()),
                       static_cast<int>(clock.seconds().count()));
    if (const auto fraction = clock.subseconds().count(); fraction != 0) {
      n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ".%06lld",
                         static_cast<long long>(fraction));
    }
    if (type == ColumnType::kTimestamp) text[n++] = 'Z';
  }
  return std::string(text, static_cast<std::size_t>(n));
}

std::string FormatTimestamp(std::int64_t micros) {
  return FormatTemporal(ColumnType::kTimestamp, micros);
}

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0, min = 0;
    if ((c & 0xE0) == 0xC0)
      length = 2, code = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
      length = 3, code = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
      length = 4, code = c & 0x07, min = 0x10000;
    else
      return false;
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

InputErrc BadValueReason(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64:
      return InputErrc::kBadInt64;
    case ColumnType::kFloat64:
      return InputErrc::kBadFloat64;
    case ColumnType::kBool:
      return InputErrc::kBadBool;
    case ColumnType::kTimestamp:
      return InputErrc::kBadTimestamp;
    case ColumnType::kDate:
      return InputErrc::kBadDate;
    case ColumnType::kDateTime:
      return InputErrc::kBadDateTime;
    case ColumnType::kString:
      return InputErrc::kInvalidUtf8;
  }
  return InputErrc::kTypeMismatch;
}

std::string Quote(std::string_view value) {
  constexpr std::size_t kMax = 40;
  std::string text = "\"";
  text += value.substr(0, kMax);
  text += value.size() > kMax ? "...\"" : "\"";
  return text;
}

std::string LossNote(ColumnType type, std::string_view value) {
  switch (type) {
    case ColumnType::kInt64: {
      const bool sign = !value.empty() && (value[0] == '-' || value[0] == '+');
      const std::string_view digits = value.substr(sign ? 1 : 0);
      const bool integer =
          !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
      return integer ? "beyond int64" : "";
    }
    case ColumnType::kFloat64: {
      double nearest = 0;
      const auto [end, ec] = FromChars(value, nearest);
      if (ec == std::errc::result_out_of_range) return "beyond float64";
      if (ec != std::errc()) return "";
      if (!std::isfinite(nearest)) return "float64 holds finite numbers only";
      char text[kFloat64Chars];
      return "float64 would make it " + std::string(text, FormatFloat64(nearest, text));
    }
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime: {
      const auto reading = ReadTemporal(value);
      if (!reading.form) return "";
      if (*reading.form != type) return OtherFormNote(type, *reading.form);
      switch (reading.fault) {
        case TemporalFault::kSubMicrosecond:
          return std::string(TypeName(type)) + "s hold microseconds";
        case TemporalFault::kLeapSecond:
          return "no leap seconds";
        case TemporalFault::kRange:
          return std::string(kYearRange);
        case TemporalFault::kNone:
          break;
      }
      return "";
    }
    case ColumnType::kBool:
    case ColumnType::kString:
      break;
  }
  return "";
}

std::string BadValueDetail(ColumnType type, std::string_view shown, std::string_view value) {
  std::string detail = Quote(shown);
  if (const auto note = LossNote(type, value); !note.empty()) detail += " (" + note + ")";
  return detail;
}

std::string RangeDetail(ColumnType type, std::string_view shown) {
  return Quote(shown) + (type == ColumnType::kDate ? " (days " : " (microseconds ") +
         std::string(kYearRange) + ")";
}

bool IsJsonNumber(std::string_view text) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (i >= text.size() || text[i] == '0' || digits() == 0) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

bool IsJsonInteger(std::string_view text) {
  return text.find_first_of(".eE") == std::string_view::npos;
}

}  // namespace zcpipe::stages::detail
