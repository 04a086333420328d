// Workgroup::Impl: the state behind a Workgroup and the operations its two halves share.
// Private to zcpipe::workgroup. workgroup.cc holds routing, members, resizing and shutdown;
// workgroup_supervision.cc what each worker's supervisor thread does.
#pragma once

#include <strings.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "worker_process.h"
#include "zcpipe/workgroup/workgroup.h"

namespace zcpipe::workgroup::detail {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// True on a supervisor thread. Such a thread is the only reader of its worker's answers, so it
// must never wait on a worker: the worker may be waiting for it (see Workgroup::Impl::Submit).
inline thread_local bool on_supervisor_thread = false;

// Key material the coordinator keeps (to make members again): wiped when dropped.
struct Secret {
  std::string bytes;
  Secret() = default;
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret() { ::explicit_bzero(bytes.data(), bytes.size()); }
};

// A request on its way: what was sent, and whom to tell.
struct Pending {
  WorkMessage message;
  std::function<void(WorkResult)> done;
  std::function<void(std::uint64_t)> on_progress;
  std::function<bool(const shm::Handle&)> validate;
  std::optional<unsigned> max_retries;
  std::string args;  // kCreateMember: sent on the socket after the message, with the secret
  Secret secret;
  unsigned attempts = 0;
  std::uint64_t sent_ns = 0;
};

// One worker index: the current process behind it and what it owes.
struct Slot {
  int index = 0;
  std::mutex mutex;       // process pointer, pending, members, probes (short sections only)
  std::mutex send_mutex;  // the request ring's producer end and the socket's write side
  std::unique_ptr<WorkerProcess> process;
  std::map<std::uint64_t, Pending> pending;
  std::map<std::uint64_t, std::uint64_t> probes;  // id → sent ns
  // Probes a caller waits for: id → when answered.
  std::map<std::uint64_t, std::optional<std::chrono::steady_clock::time_point>> probe_answers;
  std::condition_variable probe_answered;
  std::uint64_t members = 0;                  // members living here (for placement)
  std::map<std::uint64_t, Pending> recreate;  // member id → its creation, to repeat on restart
  std::uint64_t last_probe_ns = 0;
  bool retired = false;  // killed on purpose, or could not be restarted
  std::atomic<bool> stop{false};
  std::thread supervisor;
};

}  // namespace zcpipe::workgroup::detail

namespace zcpipe::workgroup {

using detail::MessageKind;
using detail::MessageStatus;
using detail::Pending;
using detail::Secret;
using detail::Slot;
using detail::WorkerProcess;
using detail::WorkMessage;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Lock order everywhere: mutex_, then a slot's send_mutex, then its mutex. A supervisor thread
// never waits for a send_mutex held by a sender (see Probe), nor makes a send that could wait
// on a worker (see Submit).
class Workgroup::Impl {
 public:
  explicit Impl(WorkgroupOptions options) : options_(std::move(options)) {}

  void Launch();
  void Shutdown(milliseconds deadline);
  void AttachArena(const shm::BlockPool& pool);
  void DetachArena(std::uint32_t segment_id);
  // Sends `pending` to `worker` (< 0: the least loaded), or completes it with its error. On a
  // supervisor thread (a callback's request, a dead worker's re-routed ones) it sends only what
  // cannot wait (TrySendNow) and queues the rest for sender_: a send may wait on a worker, and
  // the worker on that supervisor. (With the copy transport a payload fills the socket that the
  // worker fills the other way with its answer; with handles, a full request ring does the
  // same.)
  void Submit(Pending pending, int worker);
  tl::expected<MemberProxy, WorkError> AddMember(Workgroup* group, const std::string& type,
                                                 std::span<const std::byte> args,
                                                 std::span<const std::byte> secret, bool recreate);
  void DestroyMember(const MemberProxy& member);
  tl::expected<int, WorkError> AddWorker();
  bool Kill(int index);
  std::vector<int> workers() const;
  int pid(int index) const;
  ProbeResult Probe(int index, milliseconds timeout);
  void OnError(std::optional<WorkErrc> code, std::function<void(const WorkError&)> handler) {
    std::lock_guard lock(mutex_);
    handlers_.push_back({code, std::move(handler)});
  }
  std::uint64_t NextId() { return next_id_++; }
  Pending MakePending(MessageKind kind, std::uint64_t member, Request request,
                      std::function<void(WorkResult)> done) {
    Pending pending;
    pending.message.id = NextId();
    pending.message.kind = kind;
    pending.message.member = member;
    pending.message.set_text(request.task);
    pending.message.input = request.input;
    pending.message.output = request.output;
    if (request.populate_output) pending.message.flags |= WorkMessage::kPopulateOutput;
    std::copy(request.args.begin(), request.args.end(), pending.message.args);
    pending.done = std::move(done);
    pending.on_progress = std::move(request.on_progress);
    pending.validate = std::move(request.validate);
    pending.max_retries = request.max_retries;
    return pending;
  }
  WorkgroupStats stats() const {
    return {completed_.load(), restarts_.load(), retries_.load(), bytes_copied_.load()};
  }
  Transport transport() const { return options_.transport; }

 private:
  Slot* SlotAt(int index) const;
  Slot* LeastLoaded(bool for_member) const;
  // Starts a process for `slot` and installs it with every arena attached; a new slot (`adopt`)
  // joins slots_ at the same time, so that no AttachArena can fall in between.
  // Errors: kInitialization, why the worker did not start (also given to the handlers).
  [[nodiscard]] tl::expected<void, WorkError> Start(Slot& slot,
                                                    std::unique_ptr<Slot> adopt = nullptr);
  // Sends `pending` to `slot` if that cannot wait: no payload for the socket, the send lock
  // free, room on the ring. Else false, and `pending` is left as it was.
  [[nodiscard]] bool TrySendNow(Slot& slot, Pending& pending);
  // `message` as sent: with the copy transport a run or an invoke carries its input's bytes
  // (`payload`, to write on the socket after it) instead of the handle.
  WorkMessage OnTheWire(const WorkMessage& message, std::span<const std::byte>& payload) const;
  // Submit without the stop check and the hand-off: picks the slot, then Send.
  void Route(Pending pending, int worker);
  // Puts `pending` on `slot`'s ring; its answer comes through the supervisor.
  void Send(Slot& slot, Pending pending);
  void SendDeferred();  // sender_'s loop
  void Supervise(Slot& slot);
  void OnMessage(Slot& slot, const WorkMessage& message);
  void OnDone(Slot& slot, const WorkMessage& message);
  // Replaces a dead or stalled worker and re-routes what it owed.
  void OnDeath(Slot& slot, const std::string& why);
  void CheckHealth(Slot& slot);
  void Complete(Pending& pending, WorkResult result);
  // Gives `error` to the handlers registered for its kind (OnError, OnAnyError).
  void NotifyHandlers(const WorkError& error);
  std::span<std::byte> Bytes(const shm::Handle& handle) const;

  const WorkgroupOptions options_;
  mutable std::mutex mutex_;  // slots_, arenas_, handlers_
  std::mutex adding_;         // one AddWorker at a time
  std::vector<std::unique_ptr<Slot>> slots_;
  // id → name, pool: resolved by the pool itself, whose generations no worker can write.
  std::map<std::uint32_t, std::pair<std::string, const shm::BlockPool*>> arenas_;
  std::vector<std::pair<std::optional<WorkErrc>, std::function<void(const WorkError&)>>> handlers_;
  std::mutex deferred_mutex_;  // deferred_, sending_, sender_stop_
  std::condition_variable deferred_changed_;
  std::deque<std::pair<int, Pending>> deferred_;  // Submit's hand-offs: worker, request
  bool sending_ = false;                          // sender_ is routing one
  bool sender_stop_ = false;
  std::thread sender_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> completed_{0}, restarts_{0}, retries_{0}, bytes_copied_{0};
};

}  // namespace zcpipe::workgroup
