// bulk_import: the library API end to end. Imports a generated CSV file into an encrypted .zcp
// container through a built-in filter and a transform of our own, with progress and error
// listeners, then reads the container back and checks every count.
// Usage: bulk_import [rows, default 100000]. Exits non-zero if any count is wrong.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/stages/transform_spec.h"

namespace fs = std::filesystem;
namespace zs = zcpipe::stages;

namespace {

// Our own transform: adds `cents:int64` = amount × 100, and rejects rows without an amount.
class AddCents final : public zs::Transform {
 public:
  zs::Schema OutputSchema(const zs::Schema& input) const override {
    const auto amount = input.Find("amount");
    if (!amount || input[*amount].type != zs::ColumnType::kFloat64) {
      throw std::invalid_argument("add_cents: needs a float64 column 'amount'");
    }
    auto columns = input.columns();
    columns.push_back({"cents", zs::ColumnType::kInt64});
    return zs::Schema(std::move(columns));
  }

  zs::StageResult<zs::TransformOutput> Apply(const zs::BatchView& in, std::span<std::byte> out,
                                             zs::InputErrors& rejected) const override {
    const zs::Schema schema = OutputSchema(in.schema());  // in.schema() is what we validated
    const auto amount = *schema.Find("amount");
    zs::TransformWriter writer(in, schema.columns());
    std::uint32_t rows_rejected = 0;
    for (std::uint32_t row = 0; row < in.row_count(); ++row) {
      if (in.column(amount).is_null(row)) {
        rejected.push_back(
            writer.Reject(row, zs::InputErrc::kBadFloat64, "amount", "missing: no cents"));
        ++rows_rejected;
        continue;
      }
      for (std::size_t c = 0; c < in.column_count(); ++c) writer.CopyValue(c, in.column(c), row);
      writer.column(in.column_count())
          .AppendInt64(std::llround(in.column(amount).float64(row) * 100));
      writer.EndRow(row);
    }
    return writer.Finish(out, rows_rejected, 0);
  }
};

// Rows "id,customer,amount"; every 100th row has no amount (rejected by AddCents), most 10th
// ones a negative one (dropped by the filter).
void WriteInput(const fs::path& path, int rows) {
  std::ofstream out(path, std::ios::binary);
  out << "id,customer,amount\n";
  for (int i = 0; i < rows; ++i) {
    out << i << ",customer-" << i % 977 << ',';
    if (i % 100 != 99) out << (i % 10 == 0 ? -1 : 1) * (i % 500) << '.' << i % 100;
    out << '\n';
  }
}

int Check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "bulk_import: FAILED: %s\n", what);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 100000;
  const fs::path dir =
      fs::temp_directory_path() / ("zcpipe-bulk-import-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  WriteInput(dir / "orders.csv", rows);

  auto key = zs::FileKey::Generate();
  if (!key) return Check(false, "generate a key");
  auto credential =
      std::make_shared<const zs::Credential>(zs::Credential::FromKey(std::move(*key)));

  zcpipe::JobConfig job;
  job.input = dir / "orders.csv";
  job.schema = zs::Schema::Parse("id:int64,customer,amount:float64");
  std::vector<std::unique_ptr<zs::Transform>> steps;
  steps.push_back(std::make_unique<AddCents>());
  steps.push_back(zs::ParseTransform("filter", "cents >= 0"));
  job.transform = std::make_shared<zs::TransformChain>(std::move(steps));
  job.output = dir / "orders.zcp";
  job.credential = credential;
  job.chunk_size = 256 << 10;
  job.arena_size = 16 << 20;
  job.on_error = zcpipe::ErrorPolicy::kSkip;
  std::uint64_t errors = 0;  // listeners run on the job's dispatcher thread, one at a time
  job.on_error_event = [&errors](const zcpipe::ErrorEvent& e) {
    if (++errors <= 3) std::fprintf(stderr, "rejected: %s\n", e.message.c_str());
  };
  job.on_progress = [](const zcpipe::ProgressEvent& p) {
    std::fprintf(stderr, "\rjob %llu: %llu rows, %.0f%%%s", static_cast<unsigned long long>(p.job),
                 static_cast<unsigned long long>(p.rows_in),
                 p.bytes_total
                     ? 100.0 * static_cast<double>(p.bytes_in) / static_cast<double>(p.bytes_total)
                     : 0.0,
                 p.final ? "\n" : "");
  };
  const zcpipe::Report report = zcpipe::Run(std::move(job));

  // Read the container back: every chunk authenticated, every row counted.
  std::uint64_t rows_read = 0;
  auto reader = zs::ContainerReader::Open(dir / "orders.zcp", *credential);
  for (auto chunk = reader ? reader->Next() : tl::unexpected(reader.error()); chunk && *chunk;
       chunk = reader->Next()) {
    if (auto batch = zs::BatchView::Open((*chunk)->plaintext)) rows_read += batch->row_count();
  }
  fs::remove_all(dir);

  const auto expected_rejected = static_cast<std::uint64_t>(rows / 100);
  std::uint64_t expected_filtered = 0;
  for (int i = 0; i < rows; ++i) expected_filtered += i % 100 != 99 && i % 10 == 0 && i % 500 != 0;
  const auto& totals = report.totals;
  std::printf("bulk_import: %llu rows in, %llu out, %llu rejected, %llu filtered, %llu read back\n",
              static_cast<unsigned long long>(totals.rows_in),
              static_cast<unsigned long long>(totals.rows_out),
              static_cast<unsigned long long>(totals.rows_rejected),
              static_cast<unsigned long long>(totals.rows_filtered),
              static_cast<unsigned long long>(rows_read));
  return Check(report.status == zcpipe::JobStatus::kSucceeded, "job succeeded") +
         Check(totals.rows_in == static_cast<std::uint64_t>(rows), "rows_in") +
         Check(totals.rows_rejected == expected_rejected && errors == expected_rejected,
               "rejected rows and error events") +
         Check(totals.rows_filtered == expected_filtered, "filtered rows") +
         Check(totals.rows_out == totals.rows_in - expected_rejected - expected_filtered,
               "rows_out") +
         Check(rows_read == totals.rows_out, "rows read back from the container");
}
