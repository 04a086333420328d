// issue 24: the coordinator trusts nothing a worker writes. Its workers here run the real
// import stages inside a hostile wrapper that, after (or instead of) each call, writes random
// bytes into its blocks, forges its reply, bumps the arena's generation words, sends an
// over-long error or announces one and withholds it. Whatever they do, the coordinator must
// not crash or hang, and either the job fails cleanly (no output file) or its output is
// exactly what the in-process stages write.
//
// This binary has its own main(): as a worker, it registers the wrapper under the import
// stages' name, in place of the real member (which it wraps).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "import_stages.h"
#include "scratch.h"
#include "worker_protocol.h"
#include "worker_registry.h"
#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/export.h"
#include "zcpipe/workgroup/worker.h"

namespace zcpipe {
namespace {

namespace fs = std::filesystem;
using detail::kImportStagesMember;
using workgroup::Member;
using workgroup::TaskContext;
using workgroup::TaskFail;
using workgroup::TaskResult;

// What a hostile call does. The test passes the allowed acts, a seed and a directory in
// ZCPIPE_HOSTILE ("ACTS:SEED:DIR", ACTS letters): each call picks one of them (or none, one
// time in two, when 'n' is among them) from a generator seeded by the seed and the request's
// own arguments, so a request re-run on a replacement worker meets the same act.
enum Act : char {
  kNone = 'n',
  kScribbleResult = 's',   // random bytes over the result: reply, frame, batch
  kScribbleFrame = 'f',    // one byte of the sealed frame flipped
  kForgeReply = 'r',       // the reply's offsets and counts made up
  kBumpGenerations = 'g',  // every generation word in the arena bumped, before the call
  kLongError = 'e',        // an error of 1 MiB
  kWithholdError = 'w',    // an error announced and never sent (once per run: DIR/withheld)
};

struct Chaos {
  std::string acts;
  std::uint64_t seed = 0;
  fs::path dir;
  static Chaos FromEnvironment() {
    Chaos chaos;
    const char* spec = std::getenv("ZCPIPE_HOSTILE");
    if (spec == nullptr) return chaos;
    std::istringstream in(spec);
    std::string seed, dir;
    std::getline(in, chaos.acts, ':');
    std::getline(in, seed, ':');
    std::getline(in, dir);
    chaos.seed = std::stoull(seed);
    chaos.dir = dir;
    return chaos;
  }
};

// The arena the block at `inside` belongs to, as any process of the same user can find it: the
// mapping's start less its file offset is the segment's first byte; the pool header follows
// the 128-byte segment header (docs/shm-layout.md).
void BumpGenerations(const std::byte* inside) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    std::uintptr_t begin = 0, end = 0;
    std::uint64_t offset = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx", &begin, &end, perms, &offset) != 4) continue;
    const auto at = reinterpret_cast<std::uintptr_t>(inside);
    if (at < begin || at >= end) continue;
    auto* base = reinterpret_cast<std::byte*>(begin - offset);
    std::uint32_t block_count = 0;
    std::uint64_t generations = 0;
    std::memcpy(&block_count, base + 128 + 4, 4);
    std::memcpy(&generations, base + 128 + 8, 8);
    auto* words = reinterpret_cast<std::atomic<std::uint32_t>*>(base + generations);
    for (std::uint32_t i = 0; i < block_count; ++i) words[i].fetch_add(1);
    return;
  }
}

class Hostile final : public Member {
 public:
  Hostile(std::unique_ptr<Member> real, Chaos chaos)
      : real_(std::move(real)), chaos_(std::move(chaos)) {}

  TaskResult Invoke(TaskContext& call) override {
    std::seed_seq seq{chaos_.seed, call.arg(0), call.arg(1), call.arg(2), call.arg(3), call.arg(4)};
    std::mt19937_64 random(seq);
    const bool may_pass = chaos_.acts.find(kNone) != std::string::npos;
    const std::string& acts = chaos_.acts;
    const Act act =
        may_pass && random() % 2 == 0 ? kNone : static_cast<Act>(acts[random() % acts.size()]);
    const auto output = call.output();
    if (act == kBumpGenerations) BumpGenerations(output.data());
    if (act == kLongError) return TaskFail(std::string(1 << 20, 'e'));
    if (act == kWithholdError && Once("withheld")) {
      int nowhere[2];  // the text goes to a socket nobody reads; the real one stays open
      if (::socketpair(AF_UNIX, SOCK_STREAM, 0, nowhere) != 0) std::abort();
      (void)::dup(workgroup::detail::kWorkerSocketFd);
      ::dup2(nowhere[0], workgroup::detail::kWorkerSocketFd);
      return TaskFail("withheld");
    }
    auto result = real_->Invoke(call);
    if (!result) return result;
    const std::size_t start = call.result_start();
    const auto bytes = output.subspan(start, *result - start);
    const bool process = (call.arg(0) & 0xff) == detail::kProcess;
    switch (act) {
      case kScribbleResult:
        for (int i = 0; i < 16; ++i) bytes[random() % bytes.size()] = std::byte(random());
        break;
      case kScribbleFrame: {
        std::span<std::byte> frame = bytes;  // kSeal: the result is the frame
        if (process) {
          const auto reply = detail::ReadReply(bytes, start);
          frame = reply && reply->frame_size != 0
                      ? output.subspan(reply->frame_offset, reply->frame_size)
                      : std::span<std::byte>();
        }
        if (!frame.empty()) frame[random() % frame.size()] ^= std::byte{0x20};
        break;
      }
      case kForgeReply:
        if (process && bytes.size() >= 8 + 14 * 8) {  // the reply's first 14 words
          for (int i = 0; i < 14; ++i) {
            const std::uint64_t word = random() % 3 == 0 ? random() : random() % output.size();
            if (random() % 2 == 0) std::memcpy(bytes.data() + 8 + 8 * i, &word, 8);
          }
        }
        if (!process) return *result - 1;  // a frame one byte short
        break;
      default:
        break;
    }
    return result;
  }

 private:
  // True the first time in the run (across workers) that `what` happens.
  bool Once(const std::string& what) const {
    const int fd = ::open((chaos_.dir / what).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }

  std::unique_ptr<Member> real_;
  Chaos chaos_;
};

class HostileWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("hostile");
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "marks");
    key_ = testing::TestKey();
    std::ofstream out(dir_ / "in.csv", std::ios::binary);
    out << "id,name,amount\n";
    for (int i = 0; i < 3000; ++i) out << i << ",\"name " << i % 97 << "\"," << i % 100 << ".5\n";
  }
  void TearDown() override {
    ::unsetenv("ZCPIPE_HOSTILE");
    fs::remove_all(dir_);
  }

  JobConfig Config(const std::string& output) const {
    JobConfig config;
    config.input = dir_ / "in.csv";
    config.schema = stages::Schema::Parse("id:int64,name:string,amount:float64");
    config.chunk_size = 16 << 10;  // a few chunks
    config.arena_size = 8 << 20;
    config.threads = 2;
    config.workers = 2;
    config.on_error = ErrorPolicy::kFail;  // a poison row fails the job
    config.output = dir_ / (output + ".zcp");
    config.credential = key_;
    config.replace_output = true;
    return config;
  }

  // The container's rows as CSV; empty if it does not read back whole.
  std::string Export(const fs::path& container) const {
    const auto exported =
        stages::ExportFile(container, dir_ / "export.csv", *key_, {.replace_existing = true});
    if (!exported) return {};
    std::stringstream text;
    text << std::ifstream(dir_ / "export.csv").rdbuf();
    return text.str();
  }

  // Runs the job isolated, its workers hostile with `acts` and `seed`, and checks the only
  // outcomes allowed: failed cleanly, or succeeded with the in-process output. Returns it.
  Report RunHostile(const std::string& acts, std::uint64_t seed,
                    Transport transport = Transport::kZeroCopy) {
    const Report local = zcpipe::Run(Config("local"));
    EXPECT_EQ(local.status, JobStatus::kSucceeded);
    const auto expected = Export(dir_ / "local.zcp");
    EXPECT_FALSE(expected.empty());

    const std::string spec = acts + ":" + std::to_string(seed) + ":" + (dir_ / "marks").string();
    ::setenv("ZCPIPE_HOSTILE", spec.c_str(), 1);  // the workers inherit it
    auto config = Config("isolated");
    config.placement = Placement::kIsolated;
    config.transport = transport;
    const Report report = zcpipe::Run(config);
    ::unsetenv("ZCPIPE_HOSTILE");
    SCOPED_TRACE(acts + " seed " + std::to_string(seed) + ": " + Name(report.status) + ", " +
                 std::to_string(report.worker_restarts) +
                 " worker restarts: " + (report.error ? report.error->message.substr(0, 300) : ""));
    const auto output = dir_ / "isolated.zcp";
    if (report.status == JobStatus::kSucceeded) {
      EXPECT_EQ(Export(output), expected) << "the output is not what the stages make";
    } else {
      EXPECT_EQ(report.status, JobStatus::kFailed);
      EXPECT_FALSE(fs::exists(output)) << "a failed job published its output";
      EXPECT_TRUE(report.error.has_value());
      if (report.error) {
        EXPECT_NE(report.error->message.find("in.csv"), std::string::npos);
        EXPECT_LE(report.error->message.size(), 70u * 1024);
      }
    }
    for (const auto& entry : fs::directory_iterator(dir_)) {  // no temporary left behind
      const auto name = entry.path().filename().string();
      EXPECT_TRUE(name == "in.csv" || name == "marks" || name == "local.zcp" ||
                  name == "isolated.zcp" || name == "export.csv")
          << "left behind: " << name;
    }
    return report;
  }

  fs::path dir_;
  std::shared_ptr<const stages::Credential> key_;
};

// The coordinator resolved every block through the shared generation words: bumped, its
// Resolve failed and it dereferenced the failure (SIGSEGV). Its own generations are private.
TEST_F(HostileWorkerTest, BumpedGenerationWordsDoNotCrashTheCoordinator) {
  const Report report = RunHostile("g", 1);
  EXPECT_NE(report.status, JobStatus::kCancelled);
}

// A frame changed after sealing was appended as the worker left it: the job succeeded and
// published a container that does not verify. Frames are now authenticated, on a private copy.
TEST_F(HostileWorkerTest, AFrameChangedAfterSealingIsNeverPublished) {
  const Report report = RunHostile("f", 2);
  EXPECT_EQ(report.status, JobStatus::kFailed);
  if (report.error) {
    EXPECT_NE(report.error->message.find("worker"), std::string::npos) << report.error->message;
  }
}

TEST_F(HostileWorkerTest, AFrameChangedAfterSealingIsNeverPublishedWithTheCopyTransport) {
  const Report report = RunHostile("f", 3, Transport::kCopy);
  EXPECT_EQ(report.status, JobStatus::kFailed);
}

// An error announced and never sent held the supervisor forever (no deadline), and with it the
// job. Now the worker is treated as stalled and the request re-run: the job succeeds.
TEST_F(HostileWorkerTest, AnErrorAnnouncedAndWithheldIsADeadlineNotAHang) {
  const Report report = RunHostile("w", 4);
  EXPECT_EQ(report.status, JobStatus::kSucceeded);
  EXPECT_GE(report.worker_restarts, 1u);
}

TEST_F(HostileWorkerTest, ForgedRepliesAndScribbledResultsFailOrRetryCleanly) {
  for (const std::uint64_t seed : {5, 6}) RunHostile("nsr", seed);
}

// Every act, mixed, under a few seeds: what is asserted is the same whatever they pick.
TEST_F(HostileWorkerTest, ChaosNeverCrashesHangsOrPublishesACorruptContainer) {
  for (const std::uint64_t seed : {11, 12, 13}) {
    fs::remove_all(dir_ / "marks");
    fs::create_directories(dir_ / "marks");
    RunHostile("nsfrgew", seed);
  }
  fs::remove_all(dir_ / "marks");
  fs::create_directories(dir_ / "marks");
  RunHostile("nsfrgew", 14, Transport::kCopy);
}

}  // namespace
}  // namespace zcpipe

int main(int argc, char** argv) {
  if (argc >= 2 && argv[1] == zcpipe::workgroup::detail::kWorkerFlag) {
    // A worker: the real member first, then the hostile one in its place, wrapping it.
    zcpipe::detail::RegisterPipelineMembers();
    const auto real = zcpipe::workgroup::detail::FindMember(zcpipe::detail::kImportStagesMember);
    const auto chaos = zcpipe::Chaos::FromEnvironment();
    if (real && !chaos.acts.empty()) {
      zcpipe::workgroup::RegisterMember(
          zcpipe::detail::kImportStagesMember,
          [real = *real, chaos](zcpipe::workgroup::TaskContext& setup) {
            return std::make_unique<zcpipe::Hostile>(real(setup), chaos);
          });
    }
  }
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
