#include "worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;  // NOLINT: POSIX

namespace zcpipe::workgroup::detail {
namespace {

std::string Describe(int status) {
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Why a worker did not start; `sys_errno` when a system call refused.
tl::unexpected<WorkError> NotStarted(std::string message, int sys_errno = 0) {
  return tl::unexpected(WorkError{
      .code = WorkErrc::kInitialization, .message = std::move(message), .sys_errno = sys_errno});
}

// Waits until `fd` is readable or `timeout` passes.
bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready == 1;
}

}  // namespace

tl::expected<std::unique_ptr<WorkerProcess>, WorkError> WorkerProcess::Spawn(
    const std::filesystem::path& executable, int index, std::chrono::milliseconds timeout) {
  auto control = shm::Segment::Create(
      {.payload_size = ControlLayout::kSize, .kind = shm::SegmentKind::kChannel});
  if (!control) {
    return NotStarted("control segment: " + shm::Describe(control.error()),
                      control.error().sys_errno);
  }
  const auto payload = control->payload();
  if (!shm::Ring<WorkMessage>::Format(
          payload.subspan(ControlLayout::kRequestsOffset, ControlLayout::kRingBytes),
          kRingCapacity) ||
      !shm::Ring<WorkMessage>::Format(
          payload.subspan(ControlLayout::kResponsesOffset, ControlLayout::kRingBytes),
          kRingCapacity)) {
    return NotStarted("control segment: cannot format rings");
  }

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    const int error = errno;
    return NotStarted(std::string("socketpair: ") + std::strerror(error), error);
  }
  // dup2 onto the worker's fixed descriptor clears close-on-exec, unless it is already there.
  if (pair[1] == kWorkerSocketFd) {
    const int moved = ::fcntl(pair[1], F_DUPFD_CLOEXEC, kWorkerSocketFd + 1);
    ::close(pair[1]);
    pair[1] = moved;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pair[1], kWorkerSocketFd);
  // Whatever else is open here (a library's descriptor without O_CLOEXEC, opened by another
  // thread meanwhile: the import opens its files while its workers start) stays here.
  ::posix_spawn_file_actions_addclosefrom_np(&actions, kWorkerSocketFd + 1);
  ::posix_spawnattr_init(&attributes);
  ::posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t none;
  sigemptyset(&none);
  ::posix_spawnattr_setsigmask(&attributes, &none);  // whatever the spawning thread blocks
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  // argv[0] names the program itself, not "/proc/self/exe", so that ps shows what runs.
  std::error_code ignored;
  const auto resolved = std::filesystem::canonical(executable, ignored);
  std::string program = executable.string(), flag(kWorkerFlag), number = std::to_string(index);
  std::string shown = resolved.empty() ? program : resolved.string();
  char* argv[] = {shown.data(), flag.data(), number.data(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  ::close(pair[1]);
  if (spawned != 0) {
    ::close(pair[0]);
    return NotStarted(shown + ": cannot start worker: " + std::strerror(spawned), spawned);
  }
  std::unique_ptr<WorkerProcess> worker(new WorkerProcess(pid, pair[0], std::move(*control)));

  const auto& name = worker->control_.name();
  std::byte ready{};
  if (!WriteBlob(worker->fd_, std::as_bytes(std::span(name))) || !Readable(worker->fd_, timeout) ||
      !ReadAll(worker->fd_, std::span(&ready, 1))) {
    return NotStarted("worker " + std::to_string(index) + " (" + shown + ") did not start: " +
                      worker->Reap() + " (does main() call zcpipe::workgroup::RunIfWorker first?)");
  }
  const auto ring_payload = worker->control_.payload();
  auto requests = shm::RingProducer<WorkMessage>::Attach(
      ring_payload.subspan(ControlLayout::kRequestsOffset, ControlLayout::kRingBytes));
  auto responses = shm::RingConsumer<WorkMessage>::Attach(
      ring_payload.subspan(ControlLayout::kResponsesOffset, ControlLayout::kRingBytes),
      {.spin_for = std::chrono::microseconds(100)});
  if (!requests || !responses) {
    return NotStarted("control rings: cannot attach");
  }
  worker->requests_.emplace(std::move(*requests));
  worker->responses_.emplace(std::move(*responses));
  return worker;
}

WorkerProcess::WorkerProcess(pid_t pid, int fd, shm::Segment control)
    : pid_(pid), fd_(fd), control_(std::move(control)) {}

WorkerProcess::~WorkerProcess() {
  (void)Reap();
  ::close(fd_);
}

std::uint64_t WorkerProcess::heartbeat() const {
  return Heartbeat(control_.payload()).load(std::memory_order_relaxed);
}

void WorkerProcess::Kill() const {
  if (!reaped_) ::kill(pid_, SIGKILL);
}

bool WorkerProcess::Exited(std::string& how) {
  std::lock_guard lock(reap_mutex_);
  if (reaped_) {
    how = how_;
    return true;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  reaped_ = true;
  how = how_ = Describe(status);
  return true;
}

std::string WorkerProcess::Reap() {
  std::lock_guard lock(reap_mutex_);
  if (reaped_) return how_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  how_ = Describe(status);
  return how_;
}

}  // namespace zcpipe::workgroup::detail
