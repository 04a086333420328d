// Isolated placement with a hostile worker: its import stages seal a chunk's batches under
// frame indices the coordinator did not give (issue 24). The index is the AES-GCM nonce: a
// frame sealed under another batch's index means that index seals two plaintexts, so the job
// fails; before, the coordinator dropped such a frame, sealed the batch again and succeeded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "frame_ledger.h"
#include "import_stages.h"
#include "scratch.h"
#include "worker_registry.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/workgroup/worker.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using workgroup::kTaskArgs;
using workgroup::Member;
using workgroup::RegisterMember;
using workgroup::TaskContext;
using workgroup::TaskResult;

// Wraps the real import stages and hands them each chunk's ledger slot one index too far on:
// they then seal the chunk's first batch as frame f + 1 instead of f.
class MisnumberingStages final : public Member {
 public:
  explicit MisnumberingStages(std::unique_ptr<Member> honest) : honest_(std::move(honest)) {}

  TaskResult Invoke(TaskContext& call) override {
    const auto input = call.input();
    const auto first = (call.arg(0) & 0xff) == detail::kProcess && input.size() >= 8
                           ? detail::FrameLedger::ReadSlot(input.last<8>())
                           : std::nullopt;
    if (!first) return honest_->Invoke(call);
    std::vector<std::byte> forged(input.begin(), input.end());
    const std::uint64_t slot = *first + 2;  // a slot holds the index + 1
    std::memcpy(forged.data() + forged.size() - 8, &slot, 8);
    std::array<std::uint64_t, kTaskArgs> args{};
    for (std::size_t i = 0; i < kTaskArgs; ++i) args[i] = call.arg(i);
    TaskContext lied(forged, call.output(), args, call.secret(), {});
    auto result = honest_->Invoke(lied);
    call.set_result_start(lied.result_start());
    return result;
  }

 private:
  std::unique_ptr<Member> honest_;
};

// In every process of this binary (workers included; RunIfWorker registers the real ones
// first only once), the import stages are the misnumbering ones.
const bool kMisnumbering = [] {
  detail::RegisterPipelineMembers();
  const auto honest = *workgroup::detail::FindMember(detail::kImportStagesMember);
  return RegisterMember(detail::kImportStagesMember,
                        [honest](TaskContext& setup) -> std::unique_ptr<Member> {
                          return std::make_unique<MisnumberingStages>(honest(setup));
                        });
}();

TEST(FrameIndex, AFrameSealedUnderAnIndexTheCoordinatorDidNotGiveFailsTheJob) {
  const fs::path dir = testing::TestDir("frame-index");
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "in.csv", std::ios::binary);
    out << "id,name\n";
    for (int i = 0; i < 20000; ++i) out << i << ",name-" << i << "\n";
  }
  JobConfig config;
  config.input = dir / "in.csv";
  config.output = dir / "out.zcp";
  config.credential = testing::TestKey();
  config.chunk_size = 16 << 10;
  config.arena_size = 4 << 20;
  config.placement = Placement::kIsolated;
  config.workers = 1;
  const Report report = zcpipe::Run(config);
  EXPECT_EQ(report.status, JobStatus::kFailed);
  const ErrorEvent error = report.error.value_or(ErrorEvent{});
  EXPECT_EQ(error.kind, ErrorKind::kIntegrity) << error.message;
  EXPECT_EQ(error.reason, "frame index reused") << error.message;
  EXPECT_FALSE(fs::exists(config.output));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zcpipe
