#include "zcpipe/stages/transform.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "block.h"

#include "zcpipe/stages/transform_spec.h"

namespace zcpipe::stages {
namespace {

constexpr std::int64_t kJan1 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z, microseconds
constexpr std::int64_t kHour = 3'600'000'000;

using testing::Block;

// A batch written into a block of its own. Not copyable: the view points into the block.
struct Batch {
  Batch(const BatchInfo& info, const std::vector<ColumnBuffer>& columns,
        const std::vector<std::uint32_t>& lines = {})
      : block(1 << 20), view(Write(block, info, columns, lines)) {}
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  static BatchView Write(Block& block, const BatchInfo& info,
                         const std::vector<ColumnBuffer>& columns,
                         const std::vector<std::uint32_t>& lines) {
    auto bytes = WriteBatch(block.span(), info, columns, lines);
    if (!bytes) throw std::runtime_error(bytes.error().message);
    return *BatchView::Open(*bytes);
  }

  Block block;
  BatchView view;
};

// id:int64, amount:float64, ok:bool, name:string, at:timestamp, code:string; five rows on lines
// 100, 101, 103, 104, 106 of chunk 7.
constexpr BatchInfo kInfo{.chunk_index = 7, .first_line = 100, .first_byte = 4096};

// Appends a value, or a null for nullopt.
void Put(ColumnBuffer& column, std::optional<std::int64_t> value) {
  value ? column.AppendInt64(*value) : column.AppendNull();
}
void Put(ColumnBuffer& column, std::optional<double> value) {
  value ? column.AppendFloat64(*value) : column.AppendNull();
}
void Put(ColumnBuffer& column, std::optional<bool> value) {
  value ? column.AppendBool(*value) : column.AppendNull();
}
void Put(ColumnBuffer& column, std::optional<std::string_view> value) {
  value ? column.AppendString(*value) : column.AppendNull();
}

Batch Sample() {
  std::vector<ColumnBuffer> c;
  c.emplace_back("id", ColumnType::kInt64);
  c.emplace_back("amount", ColumnType::kFloat64);
  c.emplace_back("ok", ColumnType::kBool);
  c.emplace_back("name", ColumnType::kString);
  c.emplace_back("at", ColumnType::kTimestamp);
  c.emplace_back("code", ColumnType::kString);
  auto row = [&](std::optional<std::int64_t> id, std::optional<double> amount,
                 std::optional<bool> ok, std::optional<std::string_view> name,
                 std::optional<std::int64_t> at, std::optional<std::string_view> code) {
    Put(c[0], id);
    Put(c[1], amount);
    Put(c[2], ok);
    Put(c[3], name);
    Put(c[4], at);
    Put(c[5], code);
  };
  constexpr auto null = std::nullopt;
  row(1, 10.5, true, "Ann", kJan1, "42");
  row(2, null, false, "Bob", null, "x1");
  row(null, -3.25, null, null, kJan1 + 5 * kHour, "7");
  row(4, 100, true, "Zoë", kJan1 - 1'000'000, null);
  row(-5, 0.1, false, "", kJan1 + 60 * 24 * kHour + 12 * kHour + 500'000, "-3");
  return Batch(kInfo, c, {0, 1, 3, 4, 6});
}

// One string column `name` holding `values` (nullopt = null), rows on consecutive lines.
Batch Strings(const std::string& name, const std::vector<std::optional<std::string>>& values) {
  std::vector<ColumnBuffer> columns;
  columns.emplace_back(name, ColumnType::kString);
  for (const auto& value : values)
    value ? columns[0].AppendString(*value) : columns[0].AppendNull();
  return Batch({.chunk_index = 0, .first_line = 1, .first_byte = 0}, columns);
}

std::string Text(const ColumnView& column, std::uint32_t row) {
  if (column.is_null(row)) return "null";
  switch (column.type()) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
      return std::to_string(column.int64(row));
    case ColumnType::kFloat64: {
      char text[32];
      return std::string(text, std::to_chars(text, text + sizeof text, column.float64(row)).ptr);
    }
    case ColumnType::kBool:
      return column.boolean(row) ? "true" : "false";
    case ColumnType::kString:
      return std::string(column.string(row));
  }
  return "?";
}

// Every row as "v1|v2|...".
std::vector<std::string> Rows(const BatchView& view) {
  std::vector<std::string> rows;
  for (std::uint32_t r = 0; r < view.row_count(); ++r) {
    std::string row;
    for (std::size_t c = 0; c < view.column_count(); ++c) {
      row += (c == 0 ? "" : "|") + Text(view.column(c), r);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::uint64_t> Lines(const BatchView& view) {
  std::vector<std::uint64_t> lines;
  for (std::uint32_t r = 0; r < view.row_count(); ++r) lines.push_back(view.row_line(r));
  return lines;
}

// The result of a successful Apply, checked for what every transform promises.
struct Applied {
  TransformOutput output;
  BatchView view;
  InputErrors rejected;
  std::shared_ptr<Block> block;  // holds `view` when Apply made the block
};

Applied Apply(const Transform& transform, const BatchView& in, Block& out) {
  InputErrors rejected;
  auto output = transform.Apply(in, out.span(), rejected);
  if (!output) throw std::runtime_error("Apply failed: " + output.error().message);
  // The batch lies in the given block.
  EXPECT_GE(output->batch.data(), out.span().data());
  EXPECT_LE(output->batch.data() + output->batch.size(), out.span().data() + out.span().size());
  auto view = BatchView::Open(output->batch);
  if (!view) throw std::runtime_error("output does not open: " + view.error().message);
  // BatchInfo preserved; the counts add up; the schema is the announced one.
  EXPECT_EQ(view->info().chunk_index, in.info().chunk_index);
  EXPECT_EQ(view->info().first_line, in.info().first_line);
  EXPECT_EQ(view->info().first_byte, in.info().first_byte);
  EXPECT_EQ(view->row_count(), output->rows_out);
  EXPECT_EQ(rejected.size(), output->rows_rejected);
  EXPECT_EQ(in.row_count(), output->rows_out + output->rows_rejected + output->rows_filtered);
  EXPECT_EQ(view->schema(), transform.OutputSchema(in.schema()));
  return {*output, *view, std::move(rejected), nullptr};
}

// Applies into a new 1 MiB block, owned by the result.
Applied Apply(const Transform& transform, const BatchView& in) {
  auto out = std::make_shared<Block>(1 << 20);
  auto applied = Apply(transform, in, *out);
  applied.block = std::move(out);
  return applied;
}

// The message of the std::invalid_argument `f` throws ("" when it does not throw).
std::string ThrownMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string OutputSchemaError(const Transform& transform, const BatchView& in) {
  return ThrownMessage([&] { (void)transform.OutputSchema(in.schema()); });
}

// --- select, rename ----------------------------------------------------------------------

TEST(Select, KeepsColumnsInOrderWithInfoAndLines) {
  const auto in = Sample();
  const auto applied = Apply(SelectTransform({"name", "id", "at"}), in.view);
  EXPECT_EQ(applied.view.schema().ToString(), "name:string,id:int64,at:timestamp");
  EXPECT_EQ(Rows(applied.view),
            (std::vector<std::string>{"Ann|1|1704067200000000", "Bob|2|null",
                                      "null|null|1704085200000000", "Zoë|4|1704067199000000",
                                      "|-5|1709294400500000"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 101, 103, 104, 106}));
  EXPECT_EQ(applied.output.rows_filtered, 0u);
}

// Writers take over their thread's buffers from the last one destroyed (transform.h): what an
// earlier writer left there, of other columns, types or rows, must not show in a later batch.
TEST(TransformWriter, ALaterWriterSeesNothingOfTheBuffersItTakesOver) {
  const auto in = Sample();
  const auto wide = Apply(CastTransform({{"id", ColumnType::kString}}), in.view);
  EXPECT_EQ(wide.view.column(0).string(0), "1");
  {
    TransformWriter abandoned(in.view, in.view.schema().columns());  // a row never ended
    for (std::size_t c = 0; c < in.view.column_count(); ++c) {
      abandoned.CopyValue(c, in.view.column(c), 3);
    }
  }
  const auto narrow = Apply(SelectTransform({"code", "id"}), in.view);
  const std::vector<std::string> expected{"42|1", "x1|2", "7|null", "null|4", "-3|-5"};
  EXPECT_EQ(narrow.view.schema().ToString(), "code:string,id:int64");
  EXPECT_EQ(Rows(narrow.view), expected);
  EXPECT_EQ(Lines(narrow.view), (std::vector<std::uint64_t>{100, 101, 103, 104, 106}));
  const auto again = Apply(SelectTransform({"code", "id"}), in.view);
  EXPECT_EQ(Rows(again.view), expected);
}

// CopyRows (a column at a time, as the plan copies passed-through columns) writes what
// CopyValue row by row writes, nulls included, for every type.
TEST(TransformWriter, CopyRowsWritesWhatCopyValueWrites) {
  const auto in = Sample();
  const std::vector<std::uint32_t> rows = {4, 0, 2, 2};
  auto write = [&](bool by_column) {
    auto block = std::make_shared<Block>(1 << 20);
    TransformWriter writer(in.view, in.view.schema().columns());
    for (std::size_t c = 0; c < in.view.column_count(); ++c) {
      if (by_column) writer.CopyRows(c, in.view.column(c), rows);
      for (const std::uint32_t row : rows) {
        if (!by_column) writer.CopyValue(c, in.view.column(c), row);
      }
    }
    for (const std::uint32_t row : rows) writer.EndRow(row);
    auto output = writer.Finish(block->span(), 0, 0);
    EXPECT_TRUE(output) << output.error().message;
    return Rows(*BatchView::Open(output->batch));
  };
  const auto by_column = write(true);
  EXPECT_EQ(by_column, write(false));
  ASSERT_EQ(by_column.size(), 4u);
  EXPECT_EQ(by_column[1], Rows(in.view)[0]);
  EXPECT_EQ(by_column[2], Rows(in.view)[2]);  // a row with nulls
}

TEST(Select, RefusesUnknownAndRepeatedColumns) {
  const auto in = Sample();
  const SelectTransform select({"id", "nope"});
  EXPECT_EQ(OutputSchemaError(select, in.view),
            "select: no column 'nope' (columns: id, amount, ok, name, at, code)");
  Block out(1 << 16);
  InputErrors rejected;
  const auto result = select.Apply(in.view, out.span(), rejected);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, StageErrc::kSchemaMismatch);
  EXPECT_EQ(ThrownMessage([] { SelectTransform({"id", "id"}); }), "select: 'id' listed twice");
  EXPECT_EQ(ThrownMessage([] { SelectTransform({}); }), "select: no columns given");
}

TEST(Rename, RenamesAtOnceAndRefusesClashes) {
  const auto in = Sample();
  const auto applied =
      Apply(RenameTransform({{"id", "name"}, {"name", "id"}, {"at", "when"}}), in.view);
  EXPECT_EQ(applied.view.schema().ToString(),
            "name:int64,amount:float64,ok:bool,id:string,when:timestamp,code:string");
  EXPECT_EQ(Rows(applied.view)[0], "1|10.5|true|Ann|1704067200000000|42");
  EXPECT_EQ(OutputSchemaError(RenameTransform({{"id", "code"}}), in.view),
            "rename: two columns would be named 'code'");
  EXPECT_EQ(OutputSchemaError(RenameTransform({{"nope", "x"}}), in.view),
            "rename: no column 'nope' (columns: id, amount, ok, name, at, code)");
  EXPECT_EQ(ThrownMessage([] {
              RenameTransform({{"a", "b"}, {"a", "c"}});
            }),
            "rename: 'a' listed twice");
  EXPECT_EQ(ThrownMessage([] { RenameTransform({{"a", ""}}); }), "rename: empty new name for 'a'");
}

// --- cast --------------------------------------------------------------------------------

TEST(Cast, EveryTypeToString) {
  const auto in = Sample();
  const auto applied = Apply(CastTransform({{"id", ColumnType::kString},
                                            {"amount", ColumnType::kString},
                                            {"ok", ColumnType::kString},
                                            {"at", ColumnType::kString},
                                            {"name", ColumnType::kString}}),
                             in.view);
  EXPECT_EQ(applied.view.schema().ToString(),
            "id:string,amount:string,ok:string,name:string,at:string,code:string");
  EXPECT_EQ(
      Rows(applied.view),
      (std::vector<std::string>{
          "1|10.5|true|Ann|2024-01-01T00:00:00Z|42", "2|null|false|Bob|null|x1",
          "null|-3.25|null|null|2024-01-01T05:00:00Z|7", "4|100|true|Zoë|2023-12-31T23:59:59Z|null",
          "-5|0.1|false||2024-03-01T12:00:00.500000Z|-3"}));
  EXPECT_TRUE(applied.rejected.empty());
}

TEST(Cast, StringToIntRejectsWithLineReasonAndValue) {
  const auto in = Sample();
  const auto applied = Apply(CastTransform({{"code", ColumnType::kInt64}}), in.view);
  EXPECT_EQ(applied.view.schema().ToString(),
            "id:int64,amount:float64,ok:bool,name:string,at:timestamp,code:int64");
  ASSERT_EQ(applied.rejected.size(), 1u);
  const InputError& error = applied.rejected[0];
  EXPECT_EQ(error.reason, InputErrc::kBadInt64);
  EXPECT_EQ(error.line, 101u);
  EXPECT_EQ(error.byte_offset, 4096u);  // the batch's first byte: rows carry no offsets
  EXPECT_EQ(error.column, "code");
  EXPECT_EQ(error.detail, "\"x1\"");
  EXPECT_EQ(error.Describe(), "line 101 (byte 4096): bad int64 in column 'code': \"x1\"");
  std::vector<std::string> codes;
  for (const auto& row : Rows(applied.view)) codes.push_back(row.substr(row.rfind('|') + 1));
  EXPECT_EQ(codes, (std::vector<std::string>{"42", "7", "null", "-3"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 103, 104, 106}));
}

TEST(Cast, NumericConversions) {
  const auto in = Sample();
  // float64 → int64 only when integral: 10.5, -3.25 and 0.1 are rejected.
  const auto to_int = Apply(CastTransform({{"amount", ColumnType::kInt64}}), in.view);
  EXPECT_EQ(Rows(to_int.view), (std::vector<std::string>{"2|null|false|Bob|null|x1",
                                                         "4|100|true|Zoë|1704067199000000|null"}));
  ASSERT_EQ(to_int.rejected.size(), 3u);
  EXPECT_EQ(to_int.rejected[0].line, 100u);
  EXPECT_EQ(to_int.rejected[0].detail, "\"10.5\"");
  EXPECT_EQ(to_int.rejected[1].line, 103u);
  EXPECT_EQ(to_int.rejected[1].detail, "\"-3.25\"");
  EXPECT_EQ(to_int.rejected[2].line, 106u);
  for (const auto& error : to_int.rejected) {
    EXPECT_EQ(error.reason, InputErrc::kBadInt64);
    EXPECT_EQ(error.column, "amount");
  }
  // int64 → float64, bool → int64, timestamp → int64, int64 → timestamp: never fail.
  const auto widened = Apply(
      CastTransform(
          {{"id", ColumnType::kFloat64}, {"ok", ColumnType::kInt64}, {"at", ColumnType::kInt64}}),
      in.view);
  EXPECT_EQ(widened.view.schema().ToString(),
            "id:float64,amount:float64,ok:int64,name:string,at:int64,code:string");
  EXPECT_EQ(Rows(widened.view)[0], "1|10.5|1|Ann|1704067200000000|42");
  EXPECT_EQ(Rows(widened.view)[4], "-5|0.1|0||1709294400500000|-3");
  const auto back = Apply(CastTransform({{"at", ColumnType::kTimestamp}}), widened.view);
  EXPECT_EQ(back.view.column(4).type(), ColumnType::kTimestamp);
  EXPECT_EQ(back.view.column(4).int64(0), kJan1);
}

TEST(Cast, NumbersToBoolOnlyFromZeroOrOne) {
  std::vector<ColumnBuffer> c;
  c.emplace_back("i", ColumnType::kInt64);
  c.emplace_back("f", ColumnType::kFloat64);
  for (const auto& [i, f] : {std::pair<std::int64_t, double>{1, 0}, {2, 1}, {0, 0.5}, {0, 1e19}}) {
    c[0].AppendInt64(i);
    c[1].AppendFloat64(f);
  }
  const Batch in({}, c);
  const auto to_bool =
      Apply(CastTransform({{"i", ColumnType::kBool}, {"f", ColumnType::kBool}}), in.view);
  EXPECT_EQ(Rows(to_bool.view), (std::vector<std::string>{"true|false"}));
  ASSERT_EQ(to_bool.rejected.size(), 3u);
  EXPECT_EQ(to_bool.rejected[0].reason, InputErrc::kBadBool);
  EXPECT_EQ(to_bool.rejected[0].column, "i");
  EXPECT_EQ(to_bool.rejected[0].detail, "\"2\"");
  EXPECT_EQ(to_bool.rejected[1].column, "f");
  EXPECT_EQ(to_bool.rejected[1].detail, "\"0.5\"");
  EXPECT_EQ(to_bool.rejected[2].detail, "\"1e+19\"");
  // 1e19 is integral but above the int64 range.
  const auto to_int = Apply(CastTransform({{"f", ColumnType::kInt64}}), in.view);
  EXPECT_EQ(to_int.rejected.size(), 2u);
  EXPECT_EQ(to_int.rejected[1].line, 4u);
}

TEST(Cast, StringsParseLikeTheParsers) {
  std::vector<ColumnBuffer> c;
  for (const char* name : {"b", "f", "t"}) c.emplace_back(name, ColumnType::kString);
  auto row = [&](const char* b, const char* f, const char* t) {
    b ? c[0].AppendString(b) : c[0].AppendNull();
    f ? c[1].AppendString(f) : c[1].AppendNull();
    t ? c[2].AppendString(t) : c[2].AppendNull();
  };
  row("yes", "1.5e3", "2024-02-29T10:00:00+01:00");
  row("maybe", "1,5", "2024-02-30T00:00:00Z");  // all bad: the first cast listed is reported
  row("F", "-0.25", "2024-02-30T00:00:00Z");
  row(nullptr, nullptr, nullptr);
  const Batch in({.chunk_index = 0, .first_line = 10, .first_byte = 0}, c);
  const auto applied = Apply(
      CastTransform(
          {{"b", ColumnType::kBool}, {"f", ColumnType::kFloat64}, {"t", ColumnType::kTimestamp}}),
      in.view);
  EXPECT_EQ(Rows(applied.view),
            (std::vector<std::string>{"true|1500|1709197200000000", "null|null|null"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{10, 13}));
  ASSERT_EQ(applied.rejected.size(), 2u);
  EXPECT_EQ(applied.rejected[0].Describe(), "line 11 (byte 0): bad bool in column 'b': \"maybe\"");
  EXPECT_EQ(applied.rejected[1].Describe(),
            "line 12 (byte 0): bad timestamp in column 't': \"2024-02-30T00:00:00Z\"");
}

// Issue 22: a cast follows the parsers' rules and never rounds: a value the new type would
// change is a bad row, with what it would lose.
TEST(Cast, RejectsWhatTheNewTypeWouldChange) {
  std::vector<ColumnBuffer> c;
  c.emplace_back("s", ColumnType::kString);
  c.emplace_back("i", ColumnType::kInt64);
  c.emplace_back("f", ColumnType::kFloat64);
  auto row = [&](const char* s, std::int64_t i, double f) {
    c[0].AppendString(s);
    c[1].AppendInt64(i);
    c[2].AppendFloat64(f);
  };
  row("0.10000000000000001", 1, 1);
  row("2024-01-01T00:00:00.123456789Z", 1, 1);
  row("nan", 1, 1);
  row("1.5", 9007199254740993, 1);
  row("1.5", 1, 1152921504606846976.0);  // 2^60, which prints as 1.152921504606847e+18
  row("1.5", 9007199254740992, 9007199254740992.0);
  const Batch in({.chunk_index = 0, .first_line = 1, .first_byte = 0}, c);
  const auto as_float = Apply(
      CastTransform(
          {{"s", ColumnType::kFloat64}, {"i", ColumnType::kFloat64}, {"f", ColumnType::kInt64}}),
      in.view);
  EXPECT_EQ(Rows(as_float.view),
            (std::vector<std::string>{"1.5|9007199254740992|9007199254740992"}));
  ASSERT_EQ(as_float.rejected.size(), 5u);
  EXPECT_EQ(as_float.rejected[0].Describe(),
            "line 1 (byte 0): bad float64 in column 's': \"0.10000000000000001\" (float64 would "
            "make it 0.1)");
  EXPECT_EQ(as_float.rejected[2].Describe(),
            "line 3 (byte 0): bad float64 in column 's': \"nan\" (float64 holds finite numbers "
            "only)");
  EXPECT_EQ(as_float.rejected[3].Describe(),
            "line 4 (byte 0): bad float64 in column 'i': \"9007199254740993\" (float64 would make "
            "it 9007199254740992)");
  EXPECT_EQ(as_float.rejected[4].Describe(),
            "line 5 (byte 0): bad int64 in column 'f': \"1.152921504606847e+18\"");

  std::vector<ColumnBuffer> t;
  t.emplace_back("s", ColumnType::kString);
  t.emplace_back("i", ColumnType::kInt64);
  t[0].AppendString("2024-01-01T00:00:00.123456000Z");
  t[1].AppendInt64(253402300799999999);  // 9999-12-31T23:59:59.999999Z
  t[0].AppendString("2024-01-01T00:00:00.123456789Z");
  t[1].AppendInt64(0);
  t[0].AppendString("2024-01-01T00:00:00Z");
  t[1].AppendInt64(253402300800000000);  // year 10000
  const Batch times({.chunk_index = 0, .first_line = 1, .first_byte = 0}, t);
  const auto as_time = Apply(
      CastTransform({{"s", ColumnType::kTimestamp}, {"i", ColumnType::kTimestamp}}), times.view);
  EXPECT_EQ(Rows(as_time.view), (std::vector<std::string>{"1704067200123456|253402300799999999"}));
  ASSERT_EQ(as_time.rejected.size(), 2u);
  EXPECT_EQ(as_time.rejected[1].detail,
            "\"253402300800000000\" (microseconds outside years 0000-9999)");
  EXPECT_EQ(as_time.rejected[0].detail,
            "\"2024-01-01T00:00:00.123456789Z\" (timestamps hold microseconds)");
}

// Issue 25: dates (days), local times and instants (microseconds) convert to each other, to
// int64 as their number, and to and from their ISO 8601 text; a date takes a midnight only, and
// a local time becomes an instant as UTC (the cast says so; nothing else does).
TEST(Cast, DatesLocalTimesAndInstantsConvertWithoutLosingATimeOfDay) {
  std::vector<ColumnBuffer> c;
  c.emplace_back("d", ColumnType::kDate);
  c.emplace_back("local", ColumnType::kDateTime);
  c.emplace_back("s", ColumnType::kString);
  c.emplace_back("n", ColumnType::kInt64);
  auto row = [&](std::int64_t d, std::int64_t local, const char* s, std::int64_t n) {
    c[0].AppendInt64(d);
    c[1].AppendInt64(local);
    c[2].AppendString(s);
    c[3].AppendInt64(n);
  };
  row(19723, kJan1, "2024-01-01", 19723);       // midnight: fine
  row(-1, kJan1 + 5 * kHour, "2024-01-01", 0);  // 05:00 is no date
  row(0, kJan1, "2024-01-01T00:00:00", 0);      // no date's form
  row(0, kJan1, "2024-02-30", 0);               // no date at all
  row(0, kJan1, "2024-01-01", 2932897);         // day after 9999-12-31
  const Batch in({.chunk_index = 0, .first_line = 1, .first_byte = 0}, c);

  const auto as_date =
      Apply(CastTransform(
                {{"local", ColumnType::kDate}, {"s", ColumnType::kDate}, {"n", ColumnType::kDate}}),
            in.view);
  EXPECT_EQ(as_date.view.schema().ToString(), "d:date,local:date,s:date,n:date");
  EXPECT_EQ(Rows(as_date.view), (std::vector<std::string>{"19723|19723|19723|19723"}));
  std::vector<std::string> described;
  for (const auto& error : as_date.rejected) described.push_back(error.Describe());
  EXPECT_EQ(described,
            (std::vector<std::string>{
                "line 2 (byte 0): bad date in column 'local': \"2024-01-01T05:00:00\" (a time of "
                "day: a date holds days)",
                "line 3 (byte 0): bad date in column 's': \"2024-01-01T00:00:00\" (a time of day: "
                "a date holds days)",
                "line 4 (byte 0): bad date in column 's': \"2024-02-30\"",
                "line 5 (byte 0): bad date in column 'n': \"2932897\" (days outside years "
                "0000-9999)"}));

  // date → datetime and timestamp at midnight; datetime → timestamp as UTC; → string and int64.
  const auto widened = Apply(CastTransform({{"d", ColumnType::kTimestamp},
                                            {"local", ColumnType::kTimestamp},
                                            {"s", ColumnType::kString},
                                            {"n", ColumnType::kInt64}}),
                             in.view);
  EXPECT_EQ(Rows(widened.view)[0], "1704067200000000|1704067200000000|2024-01-01|19723");
  EXPECT_EQ(Rows(widened.view)[1], "-86400000000|1704085200000000|2024-01-01|0");
  const auto text =
      Apply(CastTransform({{"d", ColumnType::kString}, {"local", ColumnType::kString}}), in.view);
  EXPECT_EQ(Rows(text.view)[1], "1969-12-31|2024-01-01T05:00:00|2024-01-01|0");
  const auto back = Apply(CastTransform({{"d", ColumnType::kDateTime}}), widened.view);
  EXPECT_EQ(Rows(back.view)[1], "-86400000000|1704085200000000|2024-01-01|0");
  EXPECT_EQ(back.view.column(0).type(), ColumnType::kDateTime);
  const auto from_int = Apply(CastTransform({{"n", ColumnType::kDateTime}}), in.view);
  EXPECT_EQ(from_int.view.column(3).type(), ColumnType::kDateTime);
  EXPECT_TRUE(from_int.rejected.empty());
}

// Issue 25: a date column is compared with a quoted date, a local time with a local time.
TEST(Filter, ComparesDatesAndLocalTimesWithTheirOwnLiterals) {
  std::vector<ColumnBuffer> c;
  c.emplace_back("d", ColumnType::kDate);
  c.emplace_back("local", ColumnType::kDateTime);
  for (const std::int64_t day : {15339, 15340, 15341}) {  // 2011-12-31, 2012-01-01, 2012-01-02
    c[0].AppendInt64(day);
    c[1].AppendInt64(day * 24 * kHour + 12 * kHour);
  }
  c[0].AppendNull();
  c[1].AppendNull();
  const Batch in({.chunk_index = 0, .first_line = 1, .first_byte = 0}, c);
  auto kept = [&](std::string_view expression) {
    return Lines(Apply(FilterTransform(expression), in.view).view);
  };
  using Found = std::vector<std::uint64_t>;
  EXPECT_EQ(kept("d >= '2012-01-01'"), (Found{2, 3}));
  EXPECT_EQ(kept("d == '2012-01-01' or d == null"), (Found{2, 4}));
  EXPECT_EQ(kept("'2012-01-01' > d"), (Found{1}));
  EXPECT_EQ(kept("local < '2012-01-01T12:00:00'"), (Found{1}));
  EXPECT_EQ(kept("local >= '2012-01-01 12:00:00.000001'"), (Found{3}));
  // Unquoted, a date or a time without space is a literal too (no minus to mistake it for).
  EXPECT_EQ(kept("d >= 2012-01-01 and d<2012-01-02"), (Found{2}));
  EXPECT_EQ(kept("(local == 2012-01-02T12:00:00)"), (Found{3}));
  auto error = [&](std::string_view expression) {
    return OutputSchemaError(FilterTransform(expression), in.view);
  };
  EXPECT_EQ(error("d > '2012-01-01T00:00:00Z'"),
            "filter: column 'd' is date: '2012-01-01T00:00:00Z' is no date (a time of day: a date "
            "holds days), compare it with one such as '2024-01-01' (position 5)");
  EXPECT_EQ(error("local > '2012-01-01T00:00:00Z'"),
            "filter: column 'local' is datetime: '2012-01-01T00:00:00Z' is no datetime (a zone: a "
            "datetime is a local time), compare it with one such as '2024-01-01T09:30:00' "
            "(position 9)");
  EXPECT_EQ(error("d > 2012"),
            "filter: column 'd' is date: compare it with a quoted date such as '2024-01-01', not "
            "2012 (position 5)");
}

TEST(Cast, RefusesWhatDoesNotConvert) {
  const auto in = Sample();
  EXPECT_EQ(OutputSchemaError(CastTransform({{"amount", ColumnType::kTimestamp}}), in.view),
            "cast: cannot convert 'amount' from float64 to timestamp (timestamp, date and "
            "datetime convert to each other, and to and from string and int64)");
  EXPECT_EQ(OutputSchemaError(CastTransform({{"at", ColumnType::kBool}}), in.view),
            "cast: cannot convert 'at' from timestamp to bool (timestamp, date and datetime "
            "convert to each other, and to and from string and int64)");
  EXPECT_EQ(OutputSchemaError(CastTransform({{"x", ColumnType::kBool}}), in.view),
            "cast: no column 'x' (columns: id, amount, ok, name, at, code)");
}

// --- filter ------------------------------------------------------------------------------

// The `id`s of the rows of Sample() that `expression` keeps ("null" for r2).
std::vector<std::string> Kept(std::string_view expression) {
  const auto in = Sample();
  const auto applied = Apply(FilterTransform(expression), in.view);
  EXPECT_TRUE(applied.rejected.empty());
  std::vector<std::string> ids;
  for (const auto& row : Rows(applied.view)) ids.push_back(row.substr(0, row.find('|')));
  return ids;
}

using Ids = std::vector<std::string>;

TEST(Filter, ComparesEachTypeWithItsLiterals) {
  EXPECT_EQ(Kept("amount >= 10.5"), (Ids{"1", "4"}));
  EXPECT_EQ(Kept("amount < 1"), (Ids{"null", "-5"}));
  EXPECT_EQ(Kept("id > 1.5"), (Ids{"2", "4"}));   // int64 column, non-integer literal
  EXPECT_EQ(Kept("id < 1.5"), (Ids{"1", "-5"}));  // compared exactly, not rounded
  EXPECT_EQ(Kept("id == 1.0"), (Ids{"1"}));
  EXPECT_EQ(Kept("id >= -5.5 and id < -4.99"), (Ids{"-5"}));
  EXPECT_EQ(Kept("id >= 2"), (Ids{"2", "4"}));
  EXPECT_EQ(Kept("3 < id"), (Ids{"4"}));  // literal op column
  EXPECT_EQ(Kept("id <= -5"), (Ids{"-5"}));
  EXPECT_EQ(Kept("id > 1e30"), (Ids{}));
  EXPECT_EQ(Kept("ok == true"), (Ids{"1", "4"}));
  EXPECT_EQ(Kept("ok != true"), (Ids{"2", "-5"}));
  EXPECT_EQ(Kept("name == 'Zoë' or name == \"Bob\""), (Ids{"2", "4"}));
  EXPECT_EQ(Kept("name < 'B'"), (Ids{"1", "-5"}));  // bytewise; "" < "B"
  EXPECT_EQ(Kept("name == 'it\\'s'"), (Ids{}));
  EXPECT_EQ(Kept("at >= '2024-01-01T00:00:00Z'"), (Ids{"1", "null", "-5"}));
  EXPECT_EQ(Kept("at > '2024-01-01T00:00:00+01:00'"), (Ids{"1", "null", "4", "-5"}));
  EXPECT_EQ(Kept("`code` == '42'"), (Ids{"1"}));
}

TEST(Filter, NullComparesFalseExceptWithNull) {
  EXPECT_EQ(Kept("amount == null"), (Ids{"2"}));
  EXPECT_EQ(Kept("amount != null"), (Ids{"1", "null", "4", "-5"}));
  EXPECT_EQ(Kept("null == name"), (Ids{"null"}));
  EXPECT_EQ(Kept("amount != 10.5"), (Ids{"null", "4", "-5"}));  // not the null amount (r1)
  EXPECT_EQ(Kept("not amount > 5"), (Ids{"2", "null", "-5"}));  // two-valued logic
}

TEST(Filter, PrecedenceNotAndOr) {
  // or binds loosest: 1 or (2 and ok == false).
  EXPECT_EQ(Kept("id == 1 or id == 2 and ok == false"), (Ids{"1", "2"}));
  EXPECT_EQ(Kept("(id == 1 or id == 2) and ok == true"), (Ids{"1"}));
  // not binds tightest: (not ok == true) and id > 0.
  EXPECT_EQ(Kept("not ok == true and id > 0"), (Ids{"2"}));
  EXPECT_EQ(Kept("not (ok == true and id > 0)"), (Ids{"2", "null", "-5"}));
  EXPECT_EQ(Kept("NOT not id == 1 AND amount > 0 Or id == -5"), (Ids{"1", "-5"}));
  EXPECT_EQ(Kept("amount >= 10.5 and (name == 'Ann' or name == \"Zoë\") and not ok == false"),
            (Ids{"1", "4"}));
}

TEST(Filter, TruthTableOfEveryOperatorMix) {
  std::vector<ColumnBuffer> columns;
  for (const char* name : {"a", "b", "c"}) columns.emplace_back(name, ColumnType::kBool);
  for (int row = 0; row < 8; ++row) {
    for (std::size_t i = 0; i < 3; ++i) columns[i].AppendBool(((row >> i) & 1) != 0);
  }
  const Batch in({.chunk_index = 1, .first_line = 50, .first_byte = 0}, columns);
  struct Case {
    const char* expression;
    std::function<bool(bool, bool, bool)> expected;
  };
  const Case cases[] = {
      {"a == true or b == true and c == true",
       [](bool a, bool b, bool c) { return a || (b && c); }},
      {"a == true and b == true or c == true",
       [](bool a, bool b, bool c) { return (a && b) || c; }},
      {"not a == true or b == true", [](bool a, bool b, bool) { return !a || b; }},
      {"not (a == true or b == true)", [](bool a, bool b, bool) { return !(a || b); }},
      {"a == true and not b == true and not not c == true",
       [](bool a, bool b, bool c) { return a && !b && c; }},
      {"((a == true) or (b == false)) and c != false",
       [](bool a, bool b, bool c) { return (a || !b) && c; }},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.expression);
    const auto applied = Apply(FilterTransform(test.expression), in.view);
    std::vector<std::uint64_t> expected_lines;
    for (int row = 0; row < 8; ++row) {
      if (test.expected((row & 1) != 0, (row & 2) != 0, (row & 4) != 0)) {
        expected_lines.push_back(50 + static_cast<std::uint64_t>(row));
      }
    }
    EXPECT_EQ(Lines(applied.view), expected_lines);  // the kept rows keep their lines
    EXPECT_EQ(applied.output.rows_filtered, 8 - expected_lines.size());
  }
}

TEST(Filter, SyntaxErrorsNameThePosition) {
  auto error = [](std::string_view expression) {
    return ThrownMessage([&] { FilterTransform{expression}; });
  };
  EXPECT_EQ(error("amount >= "),
            "filter: expected a column or a value, found the end at position 11 in \"amount >= \"");
  EXPECT_EQ(error("amount >= and x"),
            "filter: expected a column or a value, found 'and' at position 11 in \"amount >= and "
            "x\"");
  EXPECT_EQ(error("id == 1 and (id == 2"),
            "filter: expected ')' to close the '(' at position 13, found the end at position 21 "
            "in \"id == 1 and (id == 2\"");
  EXPECT_EQ(error("id == 1)"), "filter: unbalanced ')' at position 8 in \"id == 1)\"");
  EXPECT_EQ(error("amount = 10"),
            "filter: '=' is not an operator (use '==') at position 8 in \"amount = 10\"");
  EXPECT_EQ(error("name == 'abc"), "filter: unterminated string at position 9 in \"name == 'abc\"");
  EXPECT_EQ(error("id == 1 id == 2"),
            "filter: expected 'and', 'or' or the end, found 'id' at position 9 in \"id == 1 id == "
            "2\"");
  EXPECT_EQ(error("id 5"),
            "filter: expected a comparison (== != < <= > >=) after 'id', found '5' at position 4 "
            "in \"id 5\"");
  EXPECT_EQ(error("id == name"),
            "filter: compare a column with a value, not with column 'name' at position 1 in \"id "
            "== name\"");
  EXPECT_EQ(error("1 == 2"),
            "filter: a comparison needs a column, not two values at position 1 in \"1 == 2\"");
  EXPECT_EQ(error("id == 1.2.3"), "filter: bad number '1.2.3' at position 7 in \"id == 1.2.3\"");
  EXPECT_EQ(error("id == 1 and $"),
            "filter: unexpected character '$' at position 13 in \"id == 1 and $\"");
  EXPECT_EQ(error(""), "filter: expected a column or a value, found the end at position 1 in \"\"");
  EXPECT_NE(
      error(std::string(200, '(') + "id == 1" + std::string(200, ')')).find("nested too deeply"),
      std::string::npos);
}

TEST(Filter, LiteralsAreCheckedAgainstColumnTypes) {
  const auto in = Sample();
  auto error = [&](std::string_view expression) {
    return OutputSchemaError(FilterTransform(expression), in.view);
  };
  EXPECT_EQ(
      error("name > 10"),
      "filter: column 'name' is string: compare it with a quoted string, not 10 (position 8)");
  EXPECT_EQ(error("id == 'x'"),
            "filter: column 'id' is int64: compare it with a number, not 'x' (position 7)");
  EXPECT_EQ(error("amount == true"),
            "filter: column 'amount' is float64: compare it with a number, not true (position 11)");
  EXPECT_EQ(error("ok < true"),
            "filter: column 'ok' is bool: only == and != apply to it, not < (position 1)");
  EXPECT_EQ(error("ok == 1"),
            "filter: column 'ok' is bool: compare it with true or false, not 1 (position 7)");
  EXPECT_EQ(error("at > 'soon'"),
            "filter: column 'at' is timestamp: 'soon' is no timestamp, compare it with one such as "
            "'2024-01-01T09:30:00Z' (position 6)");
  // Issue 25: an instant is compared with an instant: a literal without zone is no UTC time.
  EXPECT_EQ(error("at > '2024-01-01'"),
            "filter: column 'at' is timestamp: '2024-01-01' is no timestamp (no zone: a timestamp "
            "needs Z or an offset), compare it with one such as '2024-01-01T09:30:00Z' "
            "(position 6)");
  EXPECT_EQ(error("at > 5"),
            "filter: column 'at' is timestamp: compare it with a quoted timestamp such as "
            "'2024-01-01T09:30:00Z', not 5 (position 6)");
  EXPECT_EQ(error("amount < null"),
            "filter: null can only be compared with == or !=, not < (position 10)");
  EXPECT_EQ(error("id == 1 or nope == 1"),
            "filter: no column 'nope' (columns: id, amount, ok, name, at, code) (position 12)");
  EXPECT_EQ(error("id == 1 and name != null"), "");
}

// --- hash --------------------------------------------------------------------------------

std::array<std::byte, 32> Key(std::string_view prefix) {  // zero-padded, like HMAC pads keys
  std::array<std::byte, 32> key{};
  for (std::size_t i = 0; i < prefix.size(); ++i) key[i] = static_cast<std::byte>(prefix[i]);
  return key;
}

std::array<std::byte, 32> CountingKey() {  // 00 01 02 ... 1f
  std::array<std::byte, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::byte>(i);
  return key;
}

TEST(Hash, MatchesRfc4231) {
  // HMAC pads a short key with zeros to the block size, so RFC 4231's keys zero-padded to 32
  // bytes give its results. Test case 2: key "Jefe"; test case 1: key 20 × 0x0b.
  const auto jefe = Strings("msg", {"what do ya want for nothing?"});
  const auto applied = Apply(HashTransform({"msg"}, Key("Jefe")), jefe.view);
  EXPECT_EQ(Rows(applied.view),
            (std::vector<std::string>{
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"}));
  const auto hi = Strings("msg", {"Hi There"});
  EXPECT_EQ(Rows(Apply(HashTransform({"msg"}, Key(std::string(20, '\x0b'))), hi.view).view),
            (std::vector<std::string>{
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"}));
}

TEST(Hash, EveryTypeAsItsTextNullsStayNull) {
  // Expected values: printf '%s' VALUE | openssl mac -digest SHA256
  //   -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f HMAC
  std::vector<ColumnBuffer> c;
  c.emplace_back("i", ColumnType::kInt64);
  c.emplace_back("s", ColumnType::kString);
  c.emplace_back("b", ColumnType::kBool);
  c.emplace_back("f", ColumnType::kFloat64);
  c.emplace_back("t", ColumnType::kTimestamp);
  auto row = [&](std::optional<std::int64_t> i, std::optional<std::string_view> s,
                 std::optional<bool> b, std::optional<double> f, std::optional<std::int64_t> t) {
    Put(c[0], i);
    Put(c[1], s);
    Put(c[2], b);
    Put(c[3], f);
    Put(c[4], t);
  };
  row(42, "ann@example.com", true, 10.5, kJan1);
  row(std::nullopt, "", std::nullopt, std::nullopt, std::nullopt);
  const Batch in({}, c);
  const auto key = CountingKey();
  const auto applied = Apply(HashTransform({"i", "s", "b", "f", "t"}, key), in.view);
  EXPECT_EQ(applied.view.schema().ToString(), "i:string,s:string,b:string,f:string,t:string");
  EXPECT_EQ(Text(applied.view.column(0), 0),
            "7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703");
  EXPECT_EQ(Text(applied.view.column(1), 0),
            "7fd723e36b1c9108cdb7920372eed4450ff2050f2cda0bd65d71e5d09de0079c");
  EXPECT_EQ(Text(applied.view.column(2), 0),
            "4476aeee13a643ca50916f9b6ef8acc90eee4ae04c4f56720ccc2d67eeacd8f0");
  EXPECT_EQ(Text(applied.view.column(3), 0),
            "36b73f1d03007d8a56446d340d9c899feb170f5ad7404e83d003ccf518616d05");
  EXPECT_EQ(Text(applied.view.column(4), 0),
            "19c36d1e2921a1aefcf04d691182d2874da9c1eaba5267b62eff20c9d9b3a840");
  EXPECT_EQ(Rows(applied.view)[1],
            "null|d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb|null|null|null");
}

TEST(Hash, ValuesOfOneOrSeveralShaBlocks) {
  // 55 bytes is the longest value whose padding fits the inner hash's block; 56 needs another;
  // 200 spans four; the empty value is padding alone.
  // Expected: printf '%s' VALUE | openssl mac -digest SHA256 -macopt hexkey:00..1f HMAC
  std::string alphabet;
  for (int i = 0; i < 200; ++i) alphabet += static_cast<char>('a' + i % 26);
  const auto in = Strings("v", {"", alphabet.substr(0, 55), alphabet.substr(0, 56), alphabet});
  EXPECT_EQ(Rows(Apply(HashTransform({"v"}, CountingKey()), in.view).view),
            (std::vector<std::string>{
                "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb",
                "53a465a1af49ad0a2090e251d25cbe43a6b5ac5cfe64718817a8df2f49217e93",
                "6ed49f06146e4a1f9b90dfd5f181bbe27478cc6d837a47bbcf4ac51ae3d21697",
                "44eadd5f8b411415b2ae53ef8bdc318aa9a7e1df259509580f2a45a7980a1cad"}));
}

TEST(Hash, DeterministicAcrossCallsAndThreads) {
  std::vector<std::optional<std::string>> values;
  for (int i = 0; i < 500; ++i) {
    values.emplace_back(i % 7 == 0 ? std::nullopt : std::optional("user" + std::to_string(i)));
  }
  const auto in = Strings("email", values);
  const auto key = CountingKey();
  const HashTransform hash({"email"}, key);
  const auto expected = Rows(Apply(hash, in.view).view);
  ASSERT_EQ(expected.size(), 500u);
  EXPECT_EQ(expected[0], "null");
  EXPECT_NE(expected[1], expected[2]);
  EXPECT_EQ(Rows(Apply(hash, in.view).view), expected);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Block out(1 << 17);
      for (int round = 0; round < 20; ++round) {
        InputErrors rejected;
        auto result = hash.Apply(in.view, out.span(), rejected);
        if (!result || Rows(*BatchView::Open(result->batch)) != expected) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
  // Another key, another pseudonym.
  EXPECT_NE(Rows(Apply(HashTransform({"email"}, Key("other")), in.view).view)[1], expected[1]);
}

// --- mask --------------------------------------------------------------------------------

TEST(Mask, KeepsTheLastCodePoints) {
  const auto in =
      Strings("card", {"4111111111111111", "Zoë Ünïcødé", "😀ab😀", "ab", std::nullopt, "", "ü😀x"});
  const auto applied = Apply(MaskTransform({{"card", 4}}), in.view);
  EXPECT_EQ(Rows(applied.view), (std::vector<std::string>{"************1111", "*******cødé", "😀ab😀",
                                                          "ab", "null", "", "ü😀x"}));
  const auto all = Apply(MaskTransform({{"card", 0}}), in.view);
  EXPECT_EQ(Rows(all.view), (std::vector<std::string>{"****************", "***********", "****",
                                                      "**", "null", "", "***"}));
  const auto one = Apply(MaskTransform({{"card", 1}}), in.view);
  EXPECT_EQ(Rows(one.view)[2], "***😀");
}

TEST(Mask, NeedsStringColumns) {
  const auto in = Sample();
  EXPECT_EQ(OutputSchemaError(MaskTransform({{"id", 0}}), in.view),
            "mask needs a string column: 'id' is int64");
  const auto applied = Apply(*ParseTransform("mask", "name, code:keep_last=1"), in.view);
  EXPECT_EQ(Rows(applied.view)[0], "1|10.5|true|***|1704067200000000|*2");
  EXPECT_EQ(Rows(applied.view)[2], "null|-3.25|null|null|1704085200000000|7");
  EXPECT_EQ(Rows(applied.view)[3], "4|100|true|***|1704067199000000|null");
}

// --- specs -------------------------------------------------------------------------------

TEST(ParseTransform, BuildsEachKindAndRefusesBadSpecs) {
  const auto in = Sample();
  const auto key = CountingKey();
  EXPECT_EQ(Apply(*ParseTransform("select", " code , id"), in.view).view.schema().ToString(),
            "code:string,id:int64");
  EXPECT_EQ(Apply(*ParseTransform("rename", "id:key, at : when"), in.view).view.schema().ToString(),
            "key:int64,amount:float64,ok:bool,name:string,when:timestamp,code:string");
  EXPECT_EQ(
      Apply(*ParseTransform("cast", "id:string,code:float64"), in.view).view.schema(),
      Schema::Parse("id:string,amount:float64,ok:bool,name:string,at:timestamp,code:float64"));
  EXPECT_EQ(Apply(*ParseTransform("filter", "id == 4"), in.view).output.rows_out, 1u);
  EXPECT_EQ(Text(Apply(*ParseTransform("hash", "code", key), in.view).view.column(5), 0),
            "7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703");

  auto error = [&](std::string_view kind, std::string_view spec,
                   std::span<const std::byte> k = {}) {
    return ThrownMessage([&] { (void)ParseTransform(kind, spec, k); });
  };
  EXPECT_EQ(error("sort", "id"),
            "unknown transform 'sort' (select, rename, cast, filter, hash, mask, or registered)");
  EXPECT_EQ(error("select", "id,,name"), "select: empty column name in 'id,,name'");
  EXPECT_EQ(error("select", "id,id"), "select: 'id' listed twice");
  EXPECT_EQ(error("rename", "id"), "rename: expected old:new, got 'id'");
  EXPECT_EQ(error("cast", "id:int"),
            "cast: unknown type 'int' for column 'id' (int64, float64, bool, string, timestamp, "
            "date, datetime)");
  EXPECT_EQ(error("cast", "id"), "cast: expected column:type, got 'id'");
  EXPECT_EQ(error("mask", "card:keep=4"), "mask: expected 'card:keep_last=N', got 'card:keep=4'");
  EXPECT_EQ(error("mask", "card:keep_last=-1"),
            "mask: expected 'card:keep_last=N', got 'card:keep_last=-1'");
  EXPECT_EQ(error("hash", "email"), "hash: no key given (hashing needs the job's 32-byte key)");
  EXPECT_EQ(error("hash", "email", std::span(key).first(16)),
            "hash: the key must be 32 bytes, not 16");
  EXPECT_EQ(error("filter", "id =="),
            "filter: expected a column or a value, found the end at position 6 in \"id ==\"");
}

// --- user transforms and chains ----------------------------------------------------------

// A user-defined transform: upper-cases the ASCII letters of a string column and rejects rows
// where it is empty. Stateless, so Apply is thread-safe.
class UpperCase final : public Transform {
 public:
  explicit UpperCase(std::string column) : column_(std::move(column)) {}

  Schema OutputSchema(const Schema& input) const override {
    const auto index = input.Find(column_);
    if (!index || input[*index].type != ColumnType::kString) {
      throw std::invalid_argument("upper: needs a string column '" + column_ + "'");
    }
    return input;
  }

  StageResult<TransformOutput> Apply(const BatchView& in, std::span<std::byte> out,
                                     InputErrors& rejected) const override {
    const Schema schema = in.schema();
    const auto target = schema.Find(column_);
    if (!target || schema[*target].type != ColumnType::kString) {
      return StageFail(StageErrc::kSchemaMismatch, "upper: no string column '" + column_ + "'");
    }
    TransformWriter writer(in, schema.columns());
    std::uint32_t rows_rejected = 0;
    std::string upper;
    for (std::uint32_t row = 0; row < in.row_count(); ++row) {
      const ColumnView column = in.column(*target);
      if (!column.is_null(row) && column.string(row).empty()) {
        rejected.push_back(writer.Reject(row, InputErrc::kTypeMismatch, column_, "empty"));
        ++rows_rejected;
        continue;
      }
      for (std::size_t c = 0; c < in.column_count(); ++c) {
        if (c != *target || column.is_null(row)) {
          writer.CopyValue(c, in.column(c), row);
          continue;
        }
        upper = column.string(row);
        for (char& ch : upper) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
        writer.column(c).AppendString(upper);
      }
      writer.EndRow(row);
    }
    return writer.Finish(out, rows_rejected, 0);
  }

 private:
  std::string column_;
};

// A user transform that adds a `pad` column of `width` bytes per row (to outgrow buffers).
class Pad final : public Transform {
 public:
  explicit Pad(std::size_t width) : width_(width) {}
  Schema OutputSchema(const Schema& input) const override {
    auto columns = input.columns();
    columns.push_back({"pad", ColumnType::kString});
    return Schema(std::move(columns));
  }
  StageResult<TransformOutput> Apply(const BatchView& in, std::span<std::byte> out,
                                     InputErrors&) const override {
    const Schema schema = OutputSchema(in.schema());
    TransformWriter writer(in, schema.columns());
    const std::string pad(width_, '.');
    for (std::uint32_t row = 0; row < in.row_count(); ++row) {
      for (std::size_t c = 0; c < in.column_count(); ++c) writer.CopyValue(c, in.column(c), row);
      writer.column(in.column_count()).AppendString(pad);
      writer.EndRow(row);
    }
    return writer.Finish(out, 0, 0);
  }

 private:
  std::size_t width_;
};

TEST(UserTransform, WritesThroughTransformWriter) {
  const auto in = Sample();
  const UpperCase upper("name");
  const auto applied = Apply(upper, in.view);
  EXPECT_EQ(Rows(applied.view), (std::vector<std::string>{"1|10.5|true|ANN|1704067200000000|42",
                                                          "2|null|false|BOB|null|x1",
                                                          "null|-3.25|null|null|1704085200000000|7",
                                                          "4|100|true|ZOë|1704067199000000|null"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 101, 103, 104}));
  ASSERT_EQ(applied.rejected.size(), 1u);
  EXPECT_EQ(applied.rejected[0].Describe(),
            "line 106 (byte 4096): wrong JSON type in column 'name': empty");
  EXPECT_EQ(OutputSchemaError(UpperCase("id"), in.view), "upper: needs a string column 'id'");
}

std::unique_ptr<TransformChain> Chain(std::vector<std::unique_ptr<Transform>> transforms) {
  return std::make_unique<TransformChain>(std::move(transforms));
}

template <class... T>
std::vector<std::unique_ptr<Transform>> List(std::unique_ptr<T>... transforms) {
  std::vector<std::unique_ptr<Transform>> list;
  (list.push_back(std::move(transforms)), ...);
  return list;
}

TEST(Chain, SelectRenameCastFilterFusedEqualsOneByOne) {
  const auto in = Sample();
  auto steps = [] {
    return List(ParseTransform("select", "id,amount,code,at"),
                ParseTransform("rename", "code:value,at:when"),
                ParseTransform("cast", "value:int64,amount:string"),
                ParseTransform("filter", "value > 0 and when >= '2024-01-01T00:00:00Z'"));
  };
  const auto chain = Chain(steps());
  const auto applied = Apply(*chain, in.view);
  EXPECT_EQ(applied.view.schema().ToString(), "id:int64,amount:string,value:int64,when:timestamp");
  EXPECT_EQ(Rows(applied.view), (std::vector<std::string>{"1|10.5|42|1704067200000000",
                                                          "null|-3.25|7|1704085200000000"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 103}));
  EXPECT_EQ(applied.output.rows_out, 2u);
  EXPECT_EQ(applied.output.rows_rejected, 1u);
  EXPECT_EQ(applied.output.rows_filtered, 2u);
  ASSERT_EQ(applied.rejected.size(), 1u);
  EXPECT_EQ(applied.rejected[0].Describe(),
            "line 101 (byte 4096): bad int64 in column 'value': \"x1\"");

  // The same transforms applied one at a time, each into a block of its own.
  std::vector<Block> blocks;
  blocks.reserve(4);
  BatchView current = in.view;
  std::uint32_t rejected = 0, filtered = 0;
  for (const auto& transform : steps()) {
    blocks.emplace_back(1 << 16);
    auto step = Apply(*transform, current, blocks.back());
    rejected += step.output.rows_rejected;
    filtered += step.output.rows_filtered;
    current = step.view;
  }
  EXPECT_EQ(Rows(current), Rows(applied.view));
  EXPECT_EQ(Lines(current), Lines(applied.view));
  EXPECT_EQ(rejected, applied.output.rows_rejected);
  EXPECT_EQ(filtered, applied.output.rows_filtered);
}

TEST(Chain, UserTransformBetweenBuiltins) {
  const auto in = Sample();
  const auto chain =
      Chain(List(ParseTransform("select", "id,name,code"), std::make_unique<UpperCase>("name"),
                 ParseTransform("cast", "code:int64"), ParseTransform("filter", "name != 'BOB'")));
  const auto applied = Apply(*chain, in.view);
  EXPECT_EQ(Rows(applied.view), (std::vector<std::string>{"1|ANN|42", "4|ZOë|null"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 104}));
  EXPECT_EQ(applied.output.rows_rejected, 2u);
  EXPECT_EQ(applied.output.rows_filtered, 1u);  // r2: a null name is not != 'BOB'
  ASSERT_EQ(applied.rejected.size(), 2u);
  EXPECT_EQ(applied.rejected[0].line, 106u);  // by UpperCase, which runs first
  EXPECT_EQ(applied.rejected[0].reason, InputErrc::kTypeMismatch);
  EXPECT_EQ(applied.rejected[1].line, 101u);  // by the cast
  EXPECT_EQ(applied.rejected[1].reason, InputErrc::kBadInt64);
  // Configuration errors name the transform.
  EXPECT_EQ(OutputSchemaError(
                *Chain(List(ParseTransform("select", "id"), std::make_unique<UpperCase>("name"))),
                in.view),
            "upper: needs a string column 'name'");
}

TEST(Chain, IntermediateLargerThanTheOutputBlockGrowsTheScratch) {
  const auto in = Sample();
  // Pad makes 5 × 40 KB, far more than twice the input or the 64 KB output block; select
  // then drops it again.
  const auto chain = Chain(List(std::make_unique<Pad>(40'000), ParseTransform("select", "id")));
  Block out(1 << 16);
  const auto applied = Apply(*chain, in.view, out);
  EXPECT_EQ(Rows(applied.view), (std::vector<std::string>{"1", "2", "null", "4", "-5"}));
  EXPECT_EQ(Lines(applied.view), (std::vector<std::uint64_t>{100, 101, 103, 104, 106}));
}

TEST(Chain, EmptyChainCopies) {
  const auto in = Sample();
  const auto applied = Apply(TransformChain(std::vector<std::unique_ptr<Transform>>{}), in.view);
  EXPECT_EQ(Rows(applied.view), Rows(in.view));
  EXPECT_EQ(Lines(applied.view), Lines(in.view));
}

// --- errors as values --------------------------------------------------------------------

TEST(Transform, TooSmallBlockIsAValueAndRejectsNothing) {
  const auto in = Sample();
  InputErrors rejected(1, InputError{.reason = InputErrc::kFieldCount,
                                     .line = 1,
                                     .byte_offset = 0,
                                     .column = {},
                                     .detail = {},
                                     .raw = {}});
  Block small(256);
  const CastTransform cast({{"code", ColumnType::kInt64}});
  const auto result = cast.Apply(in.view, small.span(), rejected);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, StageErrc::kBatchTooLarge);
  EXPECT_EQ(rejected.size(), 1u);  // the cast's rejected row was taken back

  const auto fused =
      Chain(List(ParseTransform("cast", "code:int64"), ParseTransform("select", "id")));
  const auto chained = fused->Apply(in.view, std::span(small.span()).first(64), rejected);
  ASSERT_FALSE(chained);
  EXPECT_EQ(chained.error().code, StageErrc::kBatchTooLarge);
  EXPECT_EQ(rejected.size(), 1u);

  const auto user_last =
      Chain(List(ParseTransform("cast", "code:int64"), std::make_unique<UpperCase>("name")));
  const auto by_user = user_last->Apply(in.view, small.span(), rejected);
  ASSERT_FALSE(by_user);
  EXPECT_EQ(by_user.error().code, StageErrc::kBatchTooLarge);
  EXPECT_EQ(by_user.error().message.rfind("transform 1: ", 0), 0u);
  EXPECT_EQ(rejected.size(), 1u);
}

// Issue 24: the recipe kept the hash key in a plain std::string, copied with every copy of the
// recipe (a chain's, the workers' set-up) and never wiped. Now one SecretBytes, shared.
TEST(Transform, TheRecipeHoldsTheHashKeyOnceAsASecret) {
  const auto key = CountingKey();
  const auto chain =
      Chain(List(ParseTransform("mask", "name:keep_last=2"), ParseTransform("hash", "code", key)));
  const std::vector<TransformStep> copy = chain->recipe();
  ASSERT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy[0].key, nullptr);  // mask has none
  ASSERT_NE(copy[1].key, nullptr);
  const std::shared_ptr<const SecretBytes>& secret = copy[1].key;
  EXPECT_EQ(secret.get(), chain->recipe()[1].key.get());  // the same bytes, not a copy
  EXPECT_TRUE(
      std::equal(key.begin(), key.end(), copy[1].key_bytes().begin(), copy[1].key_bytes().end()));
}

TEST(Transform, AnyBatchThatOpensIsSafeToTransform) {
  const auto in = Sample();
  const std::vector<std::byte> original(in.view.bytes().begin(), in.view.bytes().end());
  std::vector<std::uint64_t> storage((original.size() + 7) / 8);
  const auto bytes = std::as_writable_bytes(std::span(storage)).first(original.size());
  const auto key = CountingKey();
  const auto chain =
      Chain(List(ParseTransform("cast", "code:int64,amount:string,at:string"),
                 ParseTransform("filter", "id > 0 or name == 'x' or at == null"),
                 ParseTransform("mask", "name:keep_last=2"), ParseTransform("hash", "code", key)));
  // Flip every byte in turn: whatever BatchView::Open accepts, Apply handles, as a value (a
  // schema mismatch when a flip renamed or retyped a column). ASan and UBSan check the reads.
  int applied = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    std::memcpy(bytes.data(), original.data(), original.size());
    bytes[i] ^= std::byte{0xff};
    const auto view = BatchView::Open(bytes);
    if (!view) continue;
    Block out(1 << 16);
    InputErrors rejected;
    const auto result = chain->Apply(*view, out.span(), rejected);
    if (result) {
      ++applied;
      EXPECT_EQ(view->row_count(),
                result->rows_out + result->rows_rejected + result->rows_filtered);
    } else {
      EXPECT_TRUE(result.error().code == StageErrc::kSchemaMismatch ||
                  result.error().code == StageErrc::kBatchTooLarge)
          << result.error().message;
      EXPECT_TRUE(rejected.empty());
    }
  }
  EXPECT_GT(applied, 0);
}

}  // namespace
}  // namespace zcpipe::stages
