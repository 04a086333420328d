#include "zcpipe/shm/segment.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include "child_process.h"

namespace zcpipe::shm {
namespace {

using testing::ChildProcess;
using testing::LinePipe;
using testing::ShmExists;

Segment MakeSegment(std::size_t size = 4096) {
  auto segment = Segment::Create({.payload_size = size, .kind = SegmentKind::kRaw});
  if (!segment) throw std::runtime_error(Describe(segment.error()));
  return std::move(*segment);
}

// The VmFlags of the mapping of this process that holds `address` (/proc/self/smaps), as
// " rd wr sh ... ", or "" when none does.
std::string VmFlagsAt(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    if (std::istringstream(line) >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
    } else if (inside && line.starts_with("VmFlags:")) {
      return line.substr(8) + " ";
    }
  }
  return "";
}

// Issue 24: a worker's core file held ~95k rows in clear from the arena. No mapping of a
// segment, created or attached, goes into a core dump ("dd": VM_DONTDUMP).
TEST(Segment, NoMappingGoesIntoACoreDump) {
  Segment created = MakeSegment(3 << 20);
  auto attached = Segment::Attach(created.name());
  ASSERT_TRUE(attached) << Describe(attached.error());
  for (const Segment* segment : {&created, &*attached}) {
    const std::string flags = VmFlagsAt(segment->payload().data());
    ASSERT_NE(flags, "");
    EXPECT_NE(flags.find(" dd "), std::string::npos) << flags;
    EXPECT_EQ(VmFlagsAt(segment->payload().data() + segment->payload().size() - 1), flags);
  }
  Segment small = MakeSegment(100);  // mapped wherever the kernel puts it
  EXPECT_NE(VmFlagsAt(small.payload().data()).find(" dd "), std::string::npos);
}

TEST(Segment, PeerSeesTheCreatorsBytesAndHeader) {
  Segment created = MakeSegment(10000);
  std::memcpy(created.payload().data(), "hello", 5);

  auto attached = Segment::Attach(created.name());
  ASSERT_TRUE(attached) << Describe(attached.error());
  EXPECT_EQ(attached->id(), created.id());
  EXPECT_NE(created.id(), 0u);
  EXPECT_EQ(attached->kind(), SegmentKind::kRaw);
  EXPECT_EQ(attached->size(), 128u + 10000u);
  EXPECT_GE(attached->payload().size(), 10000u);
  EXPECT_EQ(std::memcmp(attached->payload().data(), "hello", 5), 0);
  EXPECT_TRUE(created.owner());
  EXPECT_FALSE(attached->owner());
}

TEST(Segment, IsOwnerOnlyWithAnUnpredictablePrefixedName) {
  Segment a = MakeSegment();
  Segment b = MakeSegment();
  const std::string expected_start = std::string(kSegmentPrefix) + std::to_string(::getpid()) + ".";
  EXPECT_TRUE(a.name().starts_with(expected_start)) << a.name();
  EXPECT_EQ(a.name().size(), expected_start.size() + 16);
  EXPECT_NE(a.name(), b.name());

  struct stat info {};
  ASSERT_EQ(::stat(("/dev/shm/" + a.name()).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(Segment, DestroyingTheOwnerRemovesTheNameButNotPeerMappings) {
  auto owner = std::make_unique<Segment>(MakeSegment());
  const std::string name = owner->name();
  auto peer = Segment::Attach(name);
  ASSERT_TRUE(peer);
  owner->payload()[0] = std::byte{42};
  owner.reset();

  EXPECT_FALSE(ShmExists(name));
  EXPECT_EQ(peer->payload()[0], std::byte{42});  // the mapping outlives the name
  auto again = Segment::Attach(name);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), (Error{Errc::kSystem, ENOENT}));
}

TEST(Segment, AttachRejectsMissingMalformedAndForeignObjects) {
  EXPECT_EQ(Segment::Attach("zcpipe.1.0000000000000000").error(), (Error{Errc::kSystem, ENOENT}));
  EXPECT_EQ(Segment::Attach("").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(Segment::Attach("a/b").error().code, Errc::kInvalidArgument);

  namespace bip = boost::interprocess;
  const std::string name = "zcpipe.test-foreign." + std::to_string(::getpid());
  bip::shared_memory_object object(bip::create_only, name.c_str(), bip::read_write);
  object.truncate(4096);
  {
    bip::mapped_region region(object, bip::read_write);
    std::memset(region.get_address(), 0x5a, region.get_size());  // not our magic
  }
  EXPECT_EQ(Segment::Attach(name).error().code, Errc::kBadLayout);
  bip::shared_memory_object::remove(name.c_str());
}

TEST(Segment, OneOf2MiBOrMoreIsMappedAtAMultipleOf2MiB) {
  constexpr std::uintptr_t k2MiB = std::uintptr_t{2} << 20;
  for (const std::size_t payload : {std::size_t{2} << 20, (std::size_t{5} << 20) + 12345}) {
    auto segment = Segment::Create({.payload_size = payload});
    ASSERT_TRUE(segment);
    auto peer = Segment::Attach(segment->name());
    ASSERT_TRUE(peer);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(segment->base()) % k2MiB, 0u) << payload;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(peer->base()) % k2MiB, 0u) << payload;
    // The whole segment is mapped, in both.
    std::memset(segment->payload().data(), 7, segment->payload().size());
    EXPECT_EQ(peer->payload().back(), std::byte{7});
    EXPECT_EQ(peer->size(), segment->size());
  }
}

TEST(Segment, CreateRejectsAnEmptyPayload) {
  EXPECT_EQ(Segment::Create({.payload_size = 0}).error().code, Errc::kInvalidArgument);
}

// issue 22: a /dev/shm too small for an arena failed later, when a page was first touched
// ("system error: Bad address", or SIGBUS). A segment's memory is reserved when it is made, so
// one larger than what /dev/shm has free fails there, with ENOSPC. Here /dev/shm is a 4 MiB
// tmpfs of the child's own (a private mount namespace: needs root, else skipped).
TEST(Segment, OneLargerThanTheFreeSharedMemoryFailsAtCreationWithNoSpace) {
  constexpr int kSkip = 77;
  auto child = ChildProcess::Fork([]() -> int {
    if (!testing::MountPrivateDevShm("4m")) return kSkip;
    constexpr std::size_t kMiB = std::size_t{1} << 20;
    if (FreeSharedMemory() != 4 * kMiB) return 1;
    const auto too_big = Segment::Create({.payload_size = 8 * kMiB});
    if (too_big || too_big.error() != Error{Errc::kSystem, ENOSPC}) return 2;
    const auto fits = Segment::Create({.payload_size = 3 * kMiB});  // and is reserved whole:
    if (!fits || FreeSharedMemory() >= kMiB) return 3;
    const auto no_more = Segment::Create({.payload_size = 2 * kMiB});  // 4 MiB in all, not free
    if (no_more || no_more.error() != Error{Errc::kSystem, ENOSPC}) return 4;
    std::size_t names = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
      ++names;
    }
    return names == 1 ? 0 : 5;  // the failed ones left nothing
  });
  const int code = child.ExitCode();
  if (code == kSkip) GTEST_SKIP() << "cannot mount a tmpfs on /dev/shm in a mount namespace";
  EXPECT_EQ(code, 0);
}

// Without privileges: a segment larger than all of /dev/shm fails at once (tmpfs checks the
// size before it allocates anything), and leaves no name.
TEST(Segment, OneLargerThanAllOfDevShmFailsAtCreationWithNoSpace) {
  struct statvfs info {};
  ASSERT_EQ(::statvfs("/dev/shm", &info), 0);
  if (info.f_blocks == 0) GTEST_SKIP() << "/dev/shm has no size limit";
  const std::uint64_t total = std::uint64_t{info.f_blocks} * info.f_frsize;
  ASSERT_LE(FreeSharedMemory().value_or(total + 1), total);
  const std::string prefix = std::string(kSegmentPrefix) + std::to_string(::getpid()) + ".";
  const auto segment = Segment::Create({.payload_size = total + (std::size_t{1} << 20)});
  ASSERT_FALSE(segment);
  EXPECT_EQ(segment.error(), (Error{Errc::kSystem, ENOSPC}));
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(prefix)) << entry.path();
  }
}

// The child creates a segment, announces its name, then waits to be signalled.
ChildProcess SpawnCreator(LinePipe& pipe) {
  return ChildProcess::Fork([&pipe]() -> int {
    auto segment = Segment::Create({.payload_size = 4096});
    if (!segment) return 1;
    pipe.WriteLine(segment->name());
    for (;;) ::pause();
  });
}

class SegmentSignal : public ::testing::TestWithParam<int> {};

TEST_P(SegmentSignal, DefaultDispositionRemovesTheSegmentAndStillKills) {
  LinePipe pipe;
  ChildProcess child = SpawnCreator(pipe);
  const auto name = pipe.ReadLine();
  ASSERT_TRUE(name);
  ASSERT_TRUE(ShmExists(*name));

  child.Kill(GetParam());
  const auto status = child.Wait();
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), GetParam());
  EXPECT_FALSE(ShmExists(*name));
}

INSTANTIATE_TEST_SUITE_P(Signals, SegmentSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP));

volatile sig_atomic_t g_program_saw_sigterm = 0;
Segment* g_never_destroyed = nullptr;  // reachable from a global, so not a leak to LSan

TEST(Segment, ProgramsOwnHandlerIsCalledAndNormalExitStillRemoves) {
  LinePipe pipe;
  ChildProcess child = ChildProcess::Fork([&pipe]() -> int {
    std::signal(SIGTERM, [](int) { g_program_saw_sigterm = 1; });
    g_never_destroyed = new Segment(MakeSegment());  // exit() must remove it
    const std::string name = g_never_destroyed->name();
    pipe.WriteLine(name);
    while (g_program_saw_sigterm == 0) ::pause();
    pipe.WriteLine(ShmExists(name) ? "still-there" : "gone");
    std::exit(0);
  });
  const auto name = pipe.ReadLine();
  ASSERT_TRUE(name);
  child.Kill(SIGTERM);
  EXPECT_EQ(pipe.ReadLine(), "still-there");  // the program decides when to shut down
  EXPECT_EQ(child.ExitCode(), 0);
  EXPECT_FALSE(ShmExists(*name));
}

TEST(Segment, AForkedChildNeverRemovesItsParentsSegment) {
  Segment segment = MakeSegment();
  ChildProcess child = ChildProcess::Fork([&segment]() -> int {
    { Segment moved = std::move(segment); }  // the child's copy is destroyed...
    std::exit(0);                            // ...and its exit hooks run
  });
  EXPECT_EQ(child.ExitCode(), 0);
  EXPECT_TRUE(ShmExists(segment.name()));
  EXPECT_TRUE(Segment::Attach(segment.name()));
}

TEST(Sweep, RemovesSegmentsOfDeadCreatorsAndKeepsLiveOnes) {
  Segment live = MakeSegment();
  LinePipe pipe;
  ChildProcess child = SpawnCreator(pipe);
  const auto orphan = pipe.ReadLine();
  ASSERT_TRUE(orphan);
  child.Kill(SIGKILL);  // no handler runs: the segment is left behind
  ASSERT_TRUE(child.Wait());
  ASSERT_TRUE(ShmExists(*orphan));

  const auto preview = Sweep(/*dry_run=*/true);
  EXPECT_NE(std::find(preview.removed.begin(), preview.removed.end(), *orphan),
            preview.removed.end());
  EXPECT_EQ(std::find(preview.removed.begin(), preview.removed.end(), live.name()),
            preview.removed.end());
  EXPECT_GE(preview.live, 1u);
  EXPECT_TRUE(ShmExists(*orphan));  // a dry run removes nothing

  const auto report = Sweep();
  EXPECT_NE(std::find(report.removed.begin(), report.removed.end(), *orphan), report.removed.end());
  EXPECT_FALSE(ShmExists(*orphan));
  EXPECT_TRUE(ShmExists(live.name()));
}

TEST(Sweep, AZombieCreatorCountsAsDead) {
  LinePipe pipe;
  ChildProcess child = SpawnCreator(pipe);
  const auto orphan = pipe.ReadLine();
  ASSERT_TRUE(orphan);
  child.Kill(SIGKILL);
  // Not reaped yet: the pid still exists as a zombie.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool removed = false;
  while (!removed && std::chrono::steady_clock::now() < deadline) {
    const auto report = Sweep();
    removed =
        std::find(report.removed.begin(), report.removed.end(), *orphan) != report.removed.end();
  }
  EXPECT_TRUE(removed);
  ASSERT_TRUE(child.Wait());
}

}  // namespace
}  // namespace zcpipe::shm
