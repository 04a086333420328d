// The worker process: RunIfWorker (worker.h) and the loop that serves one coordinator.
#include <malloc.h>
#include <strings.h>
#include <sys/prctl.h>

#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "worker_protocol.h"
#include "worker_registry.h"
#include "zcpipe/shm/block_pool.h"
#include "zcpipe/shm/segment.h"
#include "zcpipe/workgroup/worker.h"

namespace zcpipe::workgroup {
namespace detail {
namespace {

using std::chrono::milliseconds;

// Wipes a string that held key material.
void Wipe(std::string& secret) {
  ::explicit_bzero(secret.data(), secret.size());
  secret.clear();
}

class WorkerLoop {
 public:
  explicit WorkerLoop(int fd) : fd_(fd) {}
  int Run();

 private:
  bool Connect();
  // Handles one request; false when the worker must exit.
  bool Serve(const WorkMessage& request);
  bool Call(const WorkMessage& request, const TaskFunction* task, Member* member);
  bool CreateMember(const WorkMessage& request);
  // Resolves `handle` in an attached arena; empty span for an invalid handle.
  std::optional<std::span<std::byte>> Resolve(const shm::Handle& handle) const;
  bool Respond(const WorkMessage& response) {
    return responses_->Push(response, std::chrono::seconds(10)).has_value();
  }
  // A failure answer: the message follows on the socket.
  bool Fail(const WorkMessage& request, MessageStatus status, const std::string& message);

  const int fd_;
  std::optional<shm::Segment> control_;
  std::optional<shm::RingConsumer<WorkMessage>> requests_;
  std::optional<shm::RingProducer<WorkMessage>> responses_;
  std::unordered_map<std::uint32_t, shm::PoolView> arenas_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Member>> members_;
  std::vector<std::byte> copy_in_, copy_out_;  // copy transport: private payload buffers
};

bool WorkerLoop::Connect() {
  std::string name;
  if (!ReadBlob(fd_, name)) return false;
  auto control = shm::Segment::Attach(name);
  if (!control || control->payload().size() < ControlLayout::kSize) return false;
  const auto payload = control->payload();
  // Spin long enough to catch the next request of a busy coordinator without a wake-up.
  const shm::WaitPolicy policy{.spin_for = std::chrono::microseconds(100)};
  auto requests = shm::RingConsumer<WorkMessage>::Attach(
      payload.subspan(ControlLayout::kRequestsOffset, ControlLayout::kRingBytes), policy);
  auto responses = shm::RingProducer<WorkMessage>::Attach(
      payload.subspan(ControlLayout::kResponsesOffset, ControlLayout::kRingBytes), policy);
  if (!requests || !responses) return false;
  control_.emplace(std::move(*control));
  requests_.emplace(std::move(*requests));
  responses_.emplace(std::move(*responses));
  Heartbeat(control_->payload()).store(MonotonicNanos(), std::memory_order_relaxed);
  const std::byte ready{1};
  return WriteAll(fd_, std::span(&ready, 1));
}

int WorkerLoop::Run() {
  if (!Connect()) return 3;
  for (;;) {
    Heartbeat(control_->payload()).store(MonotonicNanos(), std::memory_order_relaxed);
    auto request = requests_->Pop(milliseconds(100));
    if (!request) {
      if (request.error().code == shm::Errc::kTimeout) continue;
      return 0;  // the coordinator is gone
    }
    Heartbeat(control_->payload()).store(MonotonicNanos(), std::memory_order_relaxed);
    if (!Serve(*request)) return 0;
  }
}

std::optional<std::span<std::byte>> WorkerLoop::Resolve(const shm::Handle& handle) const {
  if (!handle.valid()) return std::span<std::byte>{};
  const auto arena = arenas_.find(handle.segment);
  if (arena == arenas_.end()) return std::nullopt;
  auto bytes = arena->second.Resolve(handle);
  if (!bytes) return std::nullopt;
  return *bytes;
}

bool WorkerLoop::Fail(const WorkMessage& request, MessageStatus status,
                      const std::string& message) {
  WorkMessage response;
  response.id = request.id;
  response.kind = MessageKind::kDone;
  response.status = status;
  // The coordinator takes no more than kMaxErrorText bytes of it.
  const std::string_view text = std::string_view(message).substr(0, kMaxErrorText);
  response.copy_bytes = static_cast<std::uint32_t>(text.size());
  return Respond(response) && WriteAll(fd_, std::as_bytes(std::span(text)));
}

bool WorkerLoop::Serve(const WorkMessage& request) {
  switch (request.kind) {
    case MessageKind::kAttachArena:
      if (auto view = shm::PoolView::Attach(request.text_view())) {
        const auto id = view->segment_id();
        arenas_.insert_or_assign(id, std::move(*view));
      }
      return true;
    case MessageKind::kDetachArena:
      arenas_.erase(static_cast<std::uint32_t>(request.args[0]));
      return true;
    case MessageKind::kRun: {
      const auto task = FindTask(std::string(request.text_view()));
      if (!task) {
        return Fail(request, MessageStatus::kUnknownName,
                    "no task registered as '" + std::string(request.text_view()) + "'");
      }
      return Call(request, &*task, nullptr);
    }
    case MessageKind::kCreateMember:
      return CreateMember(request);
    case MessageKind::kInvoke: {
      const auto member = members_.find(request.member);
      if (member == members_.end()) {
        return Fail(request, MessageStatus::kNoSuchMember,
                    "no member " + std::to_string(request.member) + " in this worker");
      }
      return Call(request, nullptr, member->second.get());
    }
    case MessageKind::kDestroyMember:
      members_.erase(request.member);
      return true;
    case MessageKind::kProbe: {
      WorkMessage reply;
      reply.id = request.id;
      reply.kind = MessageKind::kProbeReply;
      return Respond(reply);
    }
    case MessageKind::kShutdown:
      return false;
    default:
      return Fail(request, MessageStatus::kBadRequest, "unknown request kind");
  }
}

bool WorkerLoop::Call(const WorkMessage& request, const TaskFunction* task, Member* member) {
  auto input = Resolve(request.input);
  auto output = Resolve(request.output);
  const bool copy = (request.flags & WorkMessage::kCopyPayload) != 0;
  if (copy) {  // the payload arrives on the socket; the result leaves the same way
    copy_in_.resize(request.copy_bytes);
    if (!ReadAll(fd_, copy_in_)) return false;
    copy_out_.resize(request.output.length);
    input = std::span(copy_in_);
    output = std::span(copy_out_);
  }
  if (!input || !output) {
    return Fail(request, MessageStatus::kBadRequest,
                "a request handle does not resolve in this worker (arena not attached?)");
  }
  if (!copy && (request.flags & WorkMessage::kPopulateOutput) != 0 && request.output.valid()) {
    arenas_.at(request.output.segment).Populate(request.output);
  }
  TaskContext context(*input, *output, std::span<const std::uint64_t, kTaskArgs>(request.args), {},
                      [&](std::uint64_t value) {
                        WorkMessage progress;
                        progress.id = request.id;
                        progress.kind = MessageKind::kProgress;
                        progress.args[0] = value;
                        (void)Respond(progress);
                      });
  TaskResult result;
  try {
    result = task != nullptr ? (*task)(context) : member->Invoke(context);
  } catch (const std::exception& e) {
    result = TaskFail(std::string("threw: ") + e.what());
  }
  if (!result) return Fail(request, MessageStatus::kTaskFailed, result.error().message);
  const std::size_t start = context.result_start();
  if (*result > output->size()) {
    return Fail(request, MessageStatus::kBadRequest, "task claims more output than it was given");
  }
  if (start > *result) {
    return Fail(request, MessageStatus::kBadRequest, "task's result starts past its end");
  }
  const auto length = static_cast<std::uint32_t>(*result - start);
  WorkMessage response;
  response.id = request.id;
  response.kind = MessageKind::kDone;
  response.output = request.output.Sub(static_cast<std::uint32_t>(start), length);
  if (copy) response.copy_bytes = length;
  if (!Respond(response)) return false;
  return !copy || WriteAll(fd_, std::span(copy_out_).subspan(start, length));
}

bool WorkerLoop::CreateMember(const WorkMessage& request) {
  std::string args, secret;
  if (!ReadBlob(fd_, args) || !ReadBlob(fd_, secret)) return false;
  const auto factory = FindMember(std::string(request.text_view()));
  if (!factory) {
    Wipe(secret);
    return Fail(request, MessageStatus::kUnknownName,
                "no member type registered as '" + std::string(request.text_view()) + "'");
  }
  TaskContext setup(std::as_bytes(std::span(args)), {},
                    std::span<const std::uint64_t, kTaskArgs>(request.args),
                    std::as_bytes(std::span(secret)), {});
  tl::expected<std::unique_ptr<Member>, WorkError> made;
  try {
    made = (*factory)(setup);
  } catch (const std::exception& e) {
    made = TaskFail(e.what());
  }
  Wipe(secret);
  if (!made) return Fail(request, MessageStatus::kSetupFailed, made.error().message);
  members_[request.member] = std::move(*made);
  WorkMessage response;
  response.id = request.id;
  response.kind = MessageKind::kDone;
  return Respond(response);
}

}  // namespace
}  // namespace detail

std::optional<int> RunIfWorker(int argc, char** argv) {
  if (argc < 2 || argv[1] != detail::kWorkerFlag) return std::nullopt;
  // Seen in top and ps -o comm, and by pkill -x; an exec of /proc/self/exe would say "exe".
  ::prctl(PR_SET_NAME, detail::kWorkerName.data());
  // Workers crash by design (poison rows) and hold keys and rows in clear: no core dump, and no
  // ptrace or /proc/PID/mem by other processes of the user (issue 24). Before any secret.
  ::prctl(PR_SET_DUMPABLE, 0);
  // A worker lives for many chunks, and with JobResources for many jobs: malloc keeps what they
  // free (large buffers on the heap, its top not trimmed) instead of giving it back to the
  // kernel, which would zero and fault it in again for the next chunk.
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return detail::WorkerLoop(detail::kWorkerSocketFd).Run();
}

}  // namespace zcpipe::workgroup
