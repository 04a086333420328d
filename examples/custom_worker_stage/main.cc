// custom_worker_stage: a transform of our own, registered by name, running isolated in worker
// processes (Placement::kIsolated). One of its rows crashes the worker that transforms it: the
// crash stays in that worker, the workgroup replaces it, the pipeline narrows the crash down to
// that row, quarantines it as poison and imports everything else. zcpipe cannot see which
// columns a transform of our own protects, so the quarantined row is withheld, not echoed.
// Usage: custom_worker_stage [rows, default 50000]. Exits non-zero if anything is off.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/batch.h"
#include "zcpipe/stages/transform.h"
#include "zcpipe/stages/transform_spec.h"
#include "zcpipe/workgroup/worker.h"

namespace fs = std::filesystem;
namespace zs = zcpipe::stages;

namespace {

// Masks the digits of `phone`; on the row whose id is `crash_id` it dereferences a null
// pointer, like a buggy third-party transform would.
class ScrubPhones final : public zs::Transform {
 public:
  explicit ScrubPhones(std::int64_t crash_id) : crash_id_(crash_id) {}
  zs::Schema OutputSchema(const zs::Schema& input) const override { return input; }
  zs::StageResult<zs::TransformOutput> Apply(const zs::BatchView& in, std::span<std::byte> out,
                                             zs::InputErrors&) const override {
    const auto schema = in.schema();
    const auto id = *schema.Find("id");
    const auto phone = *schema.Find("phone");
    zs::TransformWriter writer(in, schema.columns());
    for (std::uint32_t row = 0; row < in.row_count(); ++row) {
      if (in.column(id).int64(row) == crash_id_) {
        volatile int* null = nullptr;
        *null = 0;  // the worker dies of SIGSEGV here
      }
      for (std::size_t c = 0; c < in.column_count(); ++c) {
        if (c != phone) writer.CopyValue(c, in.column(c), row);
      }
      std::string scrubbed(in.column(phone).string(row));
      for (char& ch : scrubbed) {
        if (ch >= '0' && ch <= '9') ch = '#';
      }
      writer.column(phone).AppendString(scrubbed);
      writer.EndRow(row);
    }
    return writer.Finish(out, 0, 0);
  }

 private:
  std::int64_t crash_id_;
};

// Registered the same way in every process of this program: workers make it by name.
const bool kRegistered = zs::RegisterTransformKind("scrub_phones", [](std::string_view spec) {
  return std::make_unique<ScrubPhones>(std::stoll(std::string(spec)));
});

int Check(bool ok, const std::string& what) {
  if (!ok) std::fprintf(stderr, "custom_worker_stage: FAILED: %s\n", what.c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // A worker: serve, then exit.
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  const int rows = argc > 1 ? std::atoi(argv[1]) : 50000;
  const auto dir =
      fs::temp_directory_path() / ("zcpipe-custom-stage-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "in.csv", std::ios::binary);
    out << "id,phone\n";
    for (int i = 0; i < rows; ++i) out << i << ",+49 30 " << 1000000 + i << '\n';
  }
  const std::int64_t crash_id = rows / 2;

  std::uint64_t rejected = 0, sunk = 0;
  zcpipe::JobConfig config;
  config.input = dir / "in.csv";
  config.transform = zs::ParseTransform("scrub_phones", std::to_string(crash_id));
  config.placement = zcpipe::Placement::kIsolated;
  config.workers = 2;
  config.chunk_size = 64 << 10;
  config.arena_size = 8 << 20;
  config.on_error = zcpipe::ErrorPolicy::kQuarantine;
  config.rejects = dir / "poison.jsonl";
  config.batch_sink = [&](const zs::BatchView& batch) {
    sunk += batch.row_count();
    for (std::uint32_t row = 0; row < batch.row_count(); ++row) {
      if (batch.column(1).string(row).find_first_of("0123456789") != std::string_view::npos) {
        throw std::runtime_error("a phone number was not scrubbed");
      }
    }
  };
  config.on_error_event = [&](const zcpipe::ErrorEvent& error) {
    if (error.kind == zcpipe::ErrorKind::kWorkerCrash) {
      std::printf("custom_worker_stage: %s\n", error.message.c_str());
    } else {
      ++rejected;
    }
  };
  const auto report = zcpipe::Run(config);
  const auto& totals = report.totals;
  std::printf(
      "custom_worker_stage: %llu rows in, %llu imported, %llu quarantined as poison, "
      "%llu worker restarts\n",
      static_cast<unsigned long long>(totals.rows_in),
      static_cast<unsigned long long>(totals.rows_out),
      static_cast<unsigned long long>(totals.rows_rejected),
      static_cast<unsigned long long>(report.worker_restarts));
  int failures = Check(report.status == zcpipe::JobStatus::kSucceeded,
                       report.error ? report.error->message : "the import failed");
  failures += Check(totals.rows_in == static_cast<std::uint64_t>(rows), "rows_in");
  failures += Check(totals.rows_in == totals.rows_out + totals.rows_rejected, "a row was lost");
  failures += Check(totals.rows_rejected == 1, "only the crashing row is quarantined");
  failures += Check(sunk == totals.rows_out && rejected == totals.rows_rejected, "sink counts");
  failures += Check(report.worker_restarts >= 3, "the crashing row killed workers");
  std::ifstream poison(config.rejects);
  const std::string crash_line = "\"line\":" + std::to_string(crash_id + 2) + ",";  // header: 1
  std::string line;
  bool found = false, phone_shown = false;
  while (std::getline(poison, line)) {
    found |= line.find(crash_line) != std::string::npos &&
             line.find("\"raw_redacted\":\"row\"") != std::string::npos;
    phone_shown |= line.find("+49 30") != std::string::npos;
  }
  failures += Check(found, "the crashing row is in the poison file with its line, withheld");
  failures += Check(!phone_shown, "a phone number was quarantined in clear");
  fs::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
