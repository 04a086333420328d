// Issue 22: typed columns never lose data. Random columns of tricky values (leading zeros,
// integers beyond int64, decimals a double would round, nan, nanosecond timestamps, bool-like
// words, and since issue 25 dates and local times) go through `zcpipe run` with an inferred
// schema and `zcpipe export`, and every value comes back: text byte-exact, a number equal as a
// value, a date as the same date, a local time as the same local time (never given a zone), an
// instant as the same instant. With a declared type, a value the type would change is a
// reported bad row, never rounded.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <simdjson.h>

#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using TypesRoundTrip = CliTest;

// ---- The values: each column draws mostly from one family, sometimes from another. ----

enum Family {
  kLeadingZeros,
  kInt64,
  kBeyondInt64,
  kExactDecimal,
  kLongDecimal,
  kNotFinite,
  kInstant,    // with Z or an offset
  kLocalTime,  // a date and time without zone
  kDate,
  kBoolWord,
  kText,
  kFamilies,
};

std::string Digits(std::mt19937_64& rng, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += static_cast<char>('0' + rng() % 10);
  return text;
}

std::string Pick(std::mt19937_64& rng, std::initializer_list<const char*> choices) {
  return *(choices.begin() + rng() % choices.size());
}

std::string Two(unsigned value) { return (value < 10 ? "0" : "") + std::to_string(value); }

std::string Generate(std::mt19937_64& rng, Family family) {
  const std::string sign = rng() % 3 == 0 ? "-" : "";
  switch (family) {
    case kLeadingZeros:
      return "0" + Digits(rng, 1 + static_cast<int>(rng() % 14));
    case kInt64:
      if (rng() % 8 == 0) return Pick(rng, {"-9223372036854775808", "9223372036854775807", "0"});
      return std::to_string(static_cast<std::int64_t>(rng()) >> (rng() % 63));
    case kBeyondInt64:
      if (rng() % 4 == 0) return Pick(rng, {"9223372036854775808", "-9223372036854775809"});
      return sign + std::to_string(1 + rng() % 9) + Digits(rng, 19 + static_cast<int>(rng() % 10));
    case kExactDecimal: {  // a double's shortest decimal, sometimes with zeros appended
      const double value =
          std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 80));
      char text[64];
      std::string decimal(text, std::to_chars(text, text + sizeof text, value).ptr);
      if (decimal.find_first_of(".e") == std::string::npos) decimal += ".5";
      if (decimal.find('e') == std::string::npos && rng() % 3 == 0) decimal += "00";
      return sign + decimal;
    }
    case kLongDecimal:  // 17 to 25 significant digits: nearly never a double's shortest
      return sign + std::to_string(1 + rng() % 9) + "." +
             Digits(rng, 16 + static_cast<int>(rng() % 9)) + "1";
    case kNotFinite:
      return Pick(rng, {"nan", "NaN", "inf", "-inf", "Infinity", "-nan"});
    case kDate:
      return std::to_string(1900 + rng() % 200) + "-" + Two(1 + rng() % 12) + "-" +
             Two(1 + rng() % 28);
    case kInstant:
    case kLocalTime: {
      std::string text = Generate(rng, kDate) + Pick(rng, {"T", " "}) + Two(rng() % 24) + ":" +
                         Two(rng() % 60) + ":" + Two(rng() % 60);
      const int fraction = std::array{0, 3, 6, 9, 9}[rng() % 5];
      if (fraction > 0) text += "." + Digits(rng, fraction - 1) + std::to_string(1 + rng() % 9);
      return family == kLocalTime ? text : text + Pick(rng, {"Z", "+02:00", "-05:30", "-00:00"});
    }
    case kBoolWord:
      return Pick(rng, {"true", "false", "TRUE", "False", "t", "f", "yes", "no"});
    case kText:
    case kFamilies:
      break;
  }
  return Pick(rng, {"x", "Zürich", "n/a", "-", "1-2", "0x1F", "e5"});
}

using Table = std::vector<std::vector<std::string>>;  // rows x columns; "" is null

Table GenerateTable(std::mt19937_64& rng, int columns, int rows) {
  // Each column's family, and in how many of its values one is of another (0: none), so that
  // a column is of one family or nearly (then one value decides its type).
  std::vector<std::pair<Family, unsigned>> family(static_cast<std::size_t>(columns));
  for (auto& [f, mix] : family) f = static_cast<Family>(rng() % kFamilies), mix = rng() % 2 * 200;
  Table table(static_cast<std::size_t>(rows));
  for (auto& row : table) {
    for (const auto& [f, mix] : family) {
      if (rng() % 20 == 0) {
        row.emplace_back();  // null
      } else {
        const bool other = mix > 0 && rng() % mix == 0;
        row.push_back(Generate(rng, other ? static_cast<Family>(rng() % kFamilies) : f));
      }
    }
  }
  return table;
}

// ---- Equal values: byte-exact, or the same number, date, local time, instant or boolean. ----

// A decimal number as sign, significant digits and the power of ten of the first one; nothing
// if `text` is not one, or has leading zeros (then it is an identifier: only its text is it).
struct Decimal {
  bool negative = false;
  std::string digits;
  long exponent = 0;
  bool operator==(const Decimal&) const = default;
};

std::optional<Decimal> ReadDecimal(const std::string& text) {
  static const std::regex number(R"(([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?)");
  std::smatch m;
  if (!std::regex_match(text, m, number) || m[2].length() + m[3].length() == 0) return {};
  const std::string whole = m[2], fraction = m[3];
  if (whole.size() > 1 && whole[0] == '0') return {};
  std::string all = whole + fraction;
  const auto first = all.find_first_not_of('0');
  Decimal d;
  if (first == std::string::npos) return d;  // zero, of either sign
  d.negative = m[1] == "-";
  d.digits = all.substr(first, all.find_last_not_of('0') + 1 - first);
  d.exponent = static_cast<long>(whole.size()) - 1 - static_cast<long>(first) +
               (m[4].matched ? std::stol(m[4]) : 0);
  return d;
}

// What an ISO 8601 text means: a date, a local time or an instant (by its form), and its
// nanoseconds since 1970-01-01T00:00:00 (in UTC for an instant).
struct Moment {
  enum Kind { kDay, kLocal, kInstant } kind;
  std::int64_t ns;
  bool operator==(const Moment&) const = default;
};

std::optional<Moment> ReadMoment(const std::string& text) {
  static const std::regex iso(
      R"((\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:\d\d)?)");
  std::smatch m;
  if (!std::regex_match(text, m, iso)) return {};
  using namespace std::chrono;
  const auto part = [&](int i) { return m[i].matched ? std::stoi(m[i]) : 0; };
  const year_month_day date{year{part(1)}, month{static_cast<unsigned>(part(2))},
                            day{static_cast<unsigned>(part(3))}};
  std::int64_t ns = duration_cast<nanoseconds>(sys_days{date}.time_since_epoch()).count() +
                    ((part(4) * 60LL + part(5)) * 60 + part(6)) * 1'000'000'000LL;
  if (m[7].matched) ns += std::stoll((m[7].str() + "00000000").substr(0, 9));
  if (m[8].matched && m[8] != "Z") {
    const std::string zone = m[8];
    const std::int64_t offset =
        (std::stoll(zone.substr(1, 2)) * 60 + std::stoll(zone.substr(4, 2))) * 60'000'000'000LL;
    ns += zone[0] == '+' ? -offset : offset;
  }
  return Moment{!m[4].matched  ? Moment::kDay
                : m[8].matched ? Moment::kInstant
                               : Moment::kLocal,
                ns};
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool SameValue(const std::string& in, const std::string& out) {
  if (in == out) return true;
  if (const auto a = ReadDecimal(in), b = ReadDecimal(out); a && b) return *a == *b;
  if (const auto a = ReadMoment(in), b = ReadMoment(out); a && b) return *a == *b;
  const std::string lower = Lower(in);
  return (lower == "true" || lower == "false") && lower == out;
}

// Every value of `got` is the same as `sent`'s; else each column's first difference.
void ExpectSameValues(const Table& sent, const Table& got, const std::string& what) {
  ASSERT_EQ(got.size(), sent.size()) << what;
  for (std::size_t r = 0; r < sent.size(); ++r) ASSERT_EQ(got[r].size(), sent[r].size()) << what;
  for (std::size_t c = 0; !sent.empty() && c < sent[0].size(); ++c) {
    for (std::size_t r = 0; r < sent.size(); ++r) {
      if (!SameValue(sent[r][c], got[r][c])) {
        ADD_FAILURE() << what << " row " << r << " column c" << c << ": sent " << sent[r][c]
                      << ", got " << got[r][c];
        break;
      }
    }
  }
}

// ---- The two formats, written and read back. ----

std::string CsvText(const Table& table, std::size_t columns) {
  std::string text;
  for (std::size_t c = 0; c < columns; ++c) text += (c ? ",c" : "c") + std::to_string(c);
  text += '\n';
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c) text += (c ? "," : "") + row[c];
    text += '\n';
  }
  return text;
}

Table ReadCsv(const std::string& text) {  // zcpipe's export: quotes only where it must
  Table table;
  std::size_t pos = text.find('\n') + 1;  // the header
  while (pos < text.size()) {
    auto& row = table.emplace_back();
    std::string field;
    bool quoted = false;
    for (; pos < text.size(); ++pos) {
      const char c = text[pos];
      if (quoted) {
        if (c == '"' && pos + 1 < text.size() && text[pos + 1] == '"') {
          field += '"', ++pos;
        } else if (c == '"') {
          quoted = false;
        } else {
          field += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',' || c == '\n') {
        row.push_back(std::move(field));
        field.clear();
        if (c == '\n') break;
      } else {
        field += c;
      }
    }
    ++pos;
  }
  return table;
}

bool IsJsonNumber(const std::string& text) {
  static const std::regex number(R"(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)");
  return std::regex_match(text, number);
}

std::string JsonlText(const Table& table) {
  std::string text;
  for (const auto& row : table) {
    text += '{';
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string& v = row[c];
      text += (c ? ",\"c" : "\"c") + std::to_string(c) + "\":";
      text += v.empty()                                        ? "null"
              : IsJsonNumber(v) || v == "true" || v == "false" ? v
                                                               : "\"" + v + "\"";
    }
    text += "}\n";
  }
  return text;
}

// Each value as its text: a string's content, a number's or a boolean's token ("" for null).
Table ReadJsonl(const std::string& text) {
  Table table;
  simdjson::ondemand::parser parser;
  std::size_t pos = 0;
  for (std::size_t end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1) {
    const simdjson::padded_string line(text.substr(pos, end - pos));
    simdjson::ondemand::document document = parser.iterate(line);
    auto& row = table.emplace_back();
    for (auto field : document.get_object()) {
      simdjson::ondemand::value value = field.value();
      switch (value.type()) {
        case simdjson::ondemand::json_type::null:
          row.emplace_back();
          break;
        case simdjson::ondemand::json_type::string:
          row.emplace_back(std::string_view(value.get_string()));
          break;
        default: {
          std::string token(value.raw_json_token());
          row.push_back(token.substr(0, token.find_last_not_of(" \t") + 1));
        }
      }
    }
  }
  return table;
}

TEST_F(TypesRoundTrip, EveryValueOfAnInferredColumnComesBackFromCsvAndJsonLines) {
  for (const std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937_64 rng(seed);
    constexpr int kColumns = 14;
    const Table table = GenerateTable(rng, kColumns, 300);
    for (const std::string format : {"csv", "jsonl"}) {
      std::ofstream(dir_ / ("in." + format), std::ios::binary)
          << (format == "csv" ? CsvText(table, kColumns) : JsonlText(table));
      const std::string placement = seed % 2 ? "" : " --isolate";
      const std::string what = format + placement + " seed " + std::to_string(seed);
      const auto run = Run("run in." + format + " -o out.zcp -k key --force" + placement);
      ASSERT_EQ(run.exit_code, 0) << what << ": " << run.err;
      const auto back = Run("export out.zcp --to " + format + " -o - -k key");
      ASSERT_EQ(back.exit_code, 0) << what << ": " << back.err;
      ExpectSameValues(table, format == "csv" ? ReadCsv(back.out) : ReadJsonl(back.out), what);
    }
  }
}

// A declared type takes a value only if it keeps it: the others are bad rows, reported with
// their line and why, in CSV, JSON Lines and --cast alike.
TEST_F(TypesRoundTrip, ADeclaredTypeRejectsWhatItWouldChangeAndKeepsTheRest) {
  // Issue 25: a date, a local time and an instant are three types, and a value of one is a bad
  // row in a column declared another (a local time would silently become UTC).
  std::ofstream(dir_ / "in.csv", std::ios::binary)
      << "i,f,ts,d,dt,s\n"
         "007,4196.10,2024-03-01T12:00:00.123456Z,2024-03-01,2024-03-01 12:00:00.5,0.5\n"
         "9223372036854775808,1,2024-03-01T00:00:00Z,2024-03-01,,0.5\n"
         "1,0.10000000000000001,2024-03-01T00:00:00Z,2024-03-01,,0.5\n"
         "1,nan,2024-03-01T00:00:00Z,2024-03-01,,0.5\n"
         "1,1,2024-03-01T12:00:00.123456789Z,2024-03-01,,0.5\n"
         "1,1,2024-03-01T00:00:00Z,2024-03-01,,9007199254740993\n"
         "1,1,2024-03-01T12:00:00,2024-03-01,,0.5\n"
         "1,1,2024-03-01T00:00:00Z,2024-03-01T00:00:00,,0.5\n"
         "1,1,2024-03-01T00:00:00Z,2024-03-01,2024-03-01T12:00:00+01:00,0.5\n"
         "1,1,2024-03-01T00:00:00Z,2012-02-30,,0.5\n";
  const auto run =
      Run("run in.csv -o out.zcp -k key --schema i:int64,f:float64,ts:timestamp,d:date,dt:datetime,"
          "s:string --cast s:float64 --on-error quarantine --rejects rejects.jsonl");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string rejects = Read("rejects.jsonl");
  for (const char* reason :
       {R"("line":3,)", "(beyond int64)", R"("line":4,)", "(float64 would make it 0.1)",
        R"("line":5,)", "(float64 holds finite numbers only)", R"("line":6,)",
        "(timestamps hold microseconds)", R"("line":7,)",
        "(float64 would make it 9007199254740992)", R"("line":8,)",
        "(no zone: a timestamp needs Z or an offset)", R"("line":9,)",
        "(a time of day: a date holds days)", R"("line":10,)",
        "(a zone: a datetime is a local time)", R"("line":11,)", "bad date"}) {
    EXPECT_NE(rejects.find(reason), std::string::npos) << reason << " in " << rejects;
  }
  EXPECT_EQ(std::count(rejects.begin(), rejects.end(), '\n'), 9) << rejects;
  const auto back = Run("export out.zcp --to csv -o - -k key");
  EXPECT_EQ(back.out,
            "i,f,ts,d,dt,s\n"
            "7,4196.1,2024-03-01T12:00:00.123456Z,2024-03-01,2024-03-01T12:00:00.500000,0.5\n");

  std::ofstream(dir_ / "in.jsonl", std::ios::binary)
      << "{\"f\":0.10000000000000001,\"ts\":\"2024-03-01T12:00:00.123456789Z\"}\n"
         "{\"f\":4196.10,\"ts\":\"2024-03-01T12:00:00.1Z\"}\n";
  const auto jsonl = Run("run in.jsonl -o j.zcp -k key --schema f:float64,ts:timestamp");
  EXPECT_EQ(jsonl.exit_code, 3);
  EXPECT_NE(jsonl.err.find("in.jsonl:1"), std::string::npos) << jsonl.err;
  EXPECT_NE(jsonl.err.find("(float64 would make it 0.1)"), std::string::npos) << jsonl.err;
}

}  // namespace
}  // namespace zcpipe::cli
