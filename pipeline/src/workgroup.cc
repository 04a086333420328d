// Workgroup (workgroup.h): routing, supervision, restarts and retries.
#include "zcpipe/pipeline/workgroup.h"

#include <strings.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "worker_process.h"
#include "worker_registry.h"

namespace zcpipe {
namespace {

using detail::MessageKind;
using detail::MessageStatus;
using detail::WorkerProcess;
using detail::WorkMessage;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr milliseconds kStartTimeout{10'000};

// Key material kept by the coordinator: wiped when dropped.
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
  std::function<void(std::uint64_t)> on_report;
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
  std::uint64_t members = 0;     // members living here (for placement)
  std::map<std::uint64_t, Pending> recreate;  // member id → its creation, to repeat on restart
  std::uint64_t last_probe_ns = 0;
  bool retired = false;  // killed on purpose, or could not be restarted
  std::atomic<bool> stop{false};
  std::thread supervisor;
};

}  // namespace

const char* Name(WorkErrc code) {
  switch (code) {
    case WorkErrc::kJob: return "job";
    case WorkErrc::kMember: return "member";
    case WorkErrc::kInitialization: return "initialization";
    case WorkErrc::kCommunication: return "communication";
    case WorkErrc::kShutdown: return "shutdown";
  }
  return "unknown";
}

HealthConfig HealthConfig::For(Mode mode) {
  switch (mode) {
    case Mode::kDisabled: return {};
    case Mode::kAggressive: return {milliseconds(50), milliseconds(2'000), 2, true};
    case Mode::kRelaxed: break;
  }
  return {milliseconds(1'000), milliseconds(30'000), 2, true};
}

class Workgroup::Impl {
 public:
  explicit Impl(WorkgroupOptions options) : options_(std::move(options)) {}

  void Launch();
  void Shutdown(milliseconds deadline);
  void AttachArena(const shm::BlockPool& pool);
  void DetachArena(std::uint32_t segment_id);
  void Submit(Pending pending, int worker);  // worker < 0: least loaded
  tl::expected<MemberProxy, WorkError> AddMember(Workgroup* group, const std::string& type,
                                                 std::span<const std::byte> args,
                                                 std::span<const std::byte> secret,
                                                 bool recreate);
  void DestroyMember(const MemberProxy& member);
  int AddWorker();
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
    std::copy(request.args.begin(), request.args.end(), pending.message.args);
    pending.done = std::move(done);
    pending.on_report = std::move(request.on_report);
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
  // Lock order everywhere: mutex_, then a slot's send_mutex, then its mutex.
  [[nodiscard]] bool Start(Slot& slot, std::unique_ptr<Slot> adopt = nullptr);
  // Puts `pending` on `slot`'s ring; its answer comes through the supervisor.
  void Send(Slot& slot, Pending pending);
  void Supervise(Slot& slot);
  void OnMessage(Slot& slot, const WorkMessage& message);
  void OnDone(Slot& slot, const WorkMessage& message);
  // Replaces a dead or stalled worker and re-routes what it owed.
  void OnDeath(Slot& slot, const std::string& why);
  void CheckHealth(Slot& slot);
  void Complete(Pending& pending, WorkResult result);
  void Report(const WorkError& error);
  std::span<std::byte> Bytes(const shm::Handle& handle) const;

  const WorkgroupOptions options_;
  mutable std::mutex mutex_;  // slots_, arenas_, handlers_
  std::vector<std::unique_ptr<Slot>> slots_;
  std::map<std::uint32_t, std::pair<std::string, shm::PoolView>> arenas_;  // id → name, view
  std::vector<std::pair<std::optional<WorkErrc>, std::function<void(const WorkError&)>>> handlers_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> completed_{0}, restarts_{0}, retries_{0}, bytes_copied_{0};
};

Slot* Workgroup::Impl::SlotAt(int index) const {
  std::lock_guard lock(mutex_);
  if (index < 0 || static_cast<std::size_t>(index) >= slots_.size()) return nullptr;
  return slots_[static_cast<std::size_t>(index)].get();
}

bool Workgroup::Impl::Start(Slot& slot, std::unique_ptr<Slot> adopt) {
  auto process = WorkerProcess::Spawn(options_.executable, slot.index, kStartTimeout);
  if (!process) {
    Report({WorkErrc::kInitialization, process.error(), slot.index, false});
    return false;
  }
  std::lock_guard lock(mutex_);
  for (const auto& [id, arena] : arenas_) {  // a fresh ring: never full
    WorkMessage attach;
    attach.kind = MessageKind::kAttachArena;
    attach.set_text(arena.first);
    (void)(*process)->requests().TryPush(attach);
  }
  if (adopt) slots_.push_back(std::move(adopt));
  std::lock_guard send_lock(slot.send_mutex);
  std::lock_guard slot_lock(slot.mutex);
  for (const auto& [member, creation] : slot.recreate) {  // before any call reaches them
    Pending again = creation;
    again.message.id = NextId();
    again.done = [this, index = slot.index](const WorkResult& made) {
      if (!made) Report({WorkErrc::kInitialization, made.error().message, index, false});
    };
    const int fd = (*process)->socket();
    if ((*process)->requests().TryPush(again.message) &&
        detail::WriteBlob(fd, std::as_bytes(std::span(again.args))) &&
        detail::WriteBlob(fd, std::as_bytes(std::span(again.secret.bytes)))) {
      again.sent_ns = detail::MonotonicNanos();
      slot.pending.emplace(again.message.id, std::move(again));
    }
  }
  slot.members = slot.recreate.size();
  slot.process = std::move(*process);
  return true;
}

void Workgroup::Impl::Launch() {
  detail::RegisterPipelineMembers();
  for (unsigned i = 0; i < options_.workers; ++i) (void)AddWorker();
}

int Workgroup::Impl::AddWorker() {
  static std::mutex adding;  // one AddWorker at a time: indices are slots_' positions
  std::lock_guard add_lock(adding);
  auto slot = std::make_unique<Slot>();
  {
    std::lock_guard lock(mutex_);
    slot->index = static_cast<int>(slots_.size());
  }
  Slot& added = *slot;
  if (!Start(added, std::move(slot))) {
    throw std::runtime_error("worker " + std::to_string(added.index) + " did not start");
  }
  added.supervisor = std::thread([this, &added] { Supervise(added); });
  return added.index;
}

Slot* Workgroup::Impl::LeastLoaded(bool for_member) const {
  std::lock_guard lock(mutex_);
  Slot* best = nullptr;
  std::size_t best_load = 0;
  for (const auto& slot : slots_) {
    std::lock_guard slot_lock(slot->mutex);
    if (slot->retired || !slot->process) continue;
    const std::size_t load = for_member ? slot->members : slot->pending.size();
    if (best == nullptr || load < best_load) best = slot.get(), best_load = load;
  }
  return best;
}

std::span<std::byte> Workgroup::Impl::Bytes(const shm::Handle& handle) const {
  std::lock_guard lock(mutex_);
  const auto arena = arenas_.find(handle.segment);
  if (arena == arenas_.end()) return {};
  auto bytes = arena->second.second.Resolve(handle);
  return bytes ? *bytes : std::span<std::byte>{};
}

void Workgroup::Impl::Submit(Pending pending, int worker) {
  if (stopping_.load()) {
    return Complete(pending, tl::unexpected(WorkError{WorkErrc::kShutdown, "workgroup stopped"}));
  }
  Slot* slot = worker >= 0 ? SlotAt(worker) : LeastLoaded(false);
  if (slot == nullptr) {
    return Complete(pending, tl::unexpected(WorkError{
                                 worker >= 0 ? WorkErrc::kMember : WorkErrc::kCommunication,
                                 "no live worker to run the request", worker}));
  }
  Send(*slot, std::move(pending));
}

void Workgroup::Impl::Send(Slot& slot, Pending pending) {
  WorkMessage message = pending.message;
  const bool copy = options_.transport == Transport::kCopy &&
                    (message.kind == MessageKind::kRun || message.kind == MessageKind::kInvoke);
  std::span<const std::byte> payload;
  if (copy) {
    payload = Bytes(message.input);
    message.flags |= WorkMessage::kCopyPayload;
    message.copy_bytes = static_cast<std::uint32_t>(payload.size());
    message.input = {};
  }
  const std::string args = pending.args;
  const Secret secret = pending.secret;
  std::unique_lock send_lock(slot.send_mutex);
  WorkerProcess* process = nullptr;
  for (bool retired = false; process == nullptr && !retired;) {
    {
      std::lock_guard lock(slot.mutex);
      retired = slot.retired;
      if (!retired && slot.process) {
        process = slot.process.get();
        pending.sent_ns = detail::MonotonicNanos();
        slot.pending.emplace(message.id, std::move(pending));
        break;
      }
    }
    // Being replaced: its supervisor is starting the new process (or retiring the slot).
    send_lock.unlock();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    send_lock.lock();
  }
  if (process == nullptr) {  // the worker died or was killed meanwhile
    send_lock.unlock();
    if (message.kind == MessageKind::kInvoke || message.kind == MessageKind::kCreateMember) {
      return Complete(pending, tl::unexpected(WorkError{WorkErrc::kMember,
                                                        "member lost: its worker is gone",
                                                        slot.index}));
    }
    return Submit(std::move(pending), -1);
  }
  // A dead worker's pending requests are re-routed by its supervisor; nothing to do here.
  if (!process->requests().Push(message, std::chrono::seconds(30))) return;
  if (copy && detail::WriteAll(process->socket(), payload)) bytes_copied_ += payload.size();
  if (message.kind == MessageKind::kCreateMember) {
    (void)(detail::WriteBlob(process->socket(), std::as_bytes(std::span(args))) &&
           detail::WriteBlob(process->socket(), std::as_bytes(std::span(secret.bytes))));
  }
}

void Workgroup::Impl::Supervise(Slot& slot) {
  while (!slot.stop.load()) {
    WorkerProcess* process = nullptr;
    {
      std::lock_guard lock(slot.mutex);
      process = slot.process.get();
    }
    if (process == nullptr) return;  // retired for good
    auto message = process->responses().Pop(milliseconds(10));
    if (message) {
      OnMessage(slot, *message);
      continue;
    }
    std::string how;
    if (message.error().code != shm::Errc::kTimeout) {
      OnDeath(slot, "worker " + std::to_string(slot.index) + " died");
    } else if (process->Exited(how)) {
      OnDeath(slot, "worker " + std::to_string(slot.index) + " " + how);
    } else {
      CheckHealth(slot);
    }
  }
}

void Workgroup::Impl::OnMessage(Slot& slot, const WorkMessage& message) {
  switch (message.kind) {
    case MessageKind::kReport: {
      std::function<void(std::uint64_t)> report;
      {
        std::lock_guard lock(slot.mutex);
        const auto it = slot.pending.find(message.id);
        if (it != slot.pending.end()) report = it->second.on_report;
      }
      if (report) report(message.args[0]);
      return;
    }
    case MessageKind::kProbeReply: {
      std::lock_guard lock(slot.mutex);
      slot.probes.erase(message.id);
      if (const auto waiter = slot.probe_answers.find(message.id);
          waiter != slot.probe_answers.end()) {  // someone waits in Probe()
        waiter->second = std::chrono::steady_clock::now();
        slot.probe_answered.notify_all();
      }
      return;
    }
    case MessageKind::kDone:
      return OnDone(slot, message);
    default:
      return OnDeath(slot, "worker " + std::to_string(slot.index) + " sent garbage");
  }
}

void Workgroup::Impl::OnDone(Slot& slot, const WorkMessage& message) {
  std::optional<Pending> pending;
  WorkerProcess* process = nullptr;
  {
    std::lock_guard lock(slot.mutex);
    process = slot.process.get();
    const auto it = slot.pending.find(message.id);
    if (it != slot.pending.end()) {
      pending.emplace(std::move(it->second));
      slot.pending.erase(it);
    }
  }
  if (!pending) return OnDeath(slot, "worker " + std::to_string(slot.index) + " sent garbage");
  const WorkMessage& request = pending->message;
  const bool member_call = request.kind == MessageKind::kInvoke;
  if (message.status != MessageStatus::kOk) {
    std::string text(message.copy_bytes, '\0');
    if (!detail::ReadAll(process->socket(), std::as_writable_bytes(std::span(text)))) {
      {
        std::lock_guard lock(slot.mutex);
        slot.pending.emplace(message.id, std::move(*pending));  // re-run it
      }
      return OnDeath(slot, "worker " + std::to_string(slot.index) + " died while answering");
    }
    WorkErrc code = member_call ? WorkErrc::kMember : WorkErrc::kJob;
    if (message.status == MessageStatus::kSetupFailed ||
        (request.kind == MessageKind::kCreateMember &&
         message.status == MessageStatus::kUnknownName)) {
      code = WorkErrc::kInitialization;
    }
    return Complete(*pending, tl::unexpected(WorkError{code, std::move(text), slot.index}));
  }
  // Everything a worker returns is checked: its answer must lie inside the block it was given.
  const shm::Handle& given = request.output;
  const shm::Handle& got = message.output;
  const bool copy = (request.flags & WorkMessage::kCopyPayload) != 0 ||
                    (options_.transport == Transport::kCopy && message.copy_bytes > 0);
  const bool valid =
      !given.valid() ? got.length == 0
                     : got.segment == given.segment && got.block == given.block &&
                           got.generation == given.generation && got.offset == given.offset &&
                           got.length <= given.length && (!copy || message.copy_bytes == got.length);
  if (!valid) {
    {
      std::lock_guard lock(slot.mutex);
      slot.pending.emplace(message.id, std::move(*pending));
    }
    return OnDeath(slot, "worker " + std::to_string(slot.index) + " returned an invalid handle");
  }
  if (message.copy_bytes > 0) {
    const auto into = Bytes(got);
    if (into.size() != message.copy_bytes || !detail::ReadAll(process->socket(), into)) {
      {
        std::lock_guard lock(slot.mutex);
        slot.pending.emplace(message.id, std::move(*pending));
      }
      return OnDeath(slot, "worker " + std::to_string(slot.index) + " died while answering");
    }
    bytes_copied_ += message.copy_bytes;
  }
  if (pending->validate && !pending->validate(got)) {
    {
      std::lock_guard lock(slot.mutex);
      slot.pending.emplace(message.id, std::move(*pending));
    }
    return OnDeath(slot, "worker " + std::to_string(slot.index) + " returned garbage");
  }
  Complete(*pending, got);
}

void Workgroup::Impl::Complete(Pending& pending, WorkResult result) {
  ++completed_;
  if (!result) Report(result.error());
  if (pending.done) pending.done(std::move(result));
}

void Workgroup::Impl::Report(const WorkError& error) {
  std::vector<std::function<void(const WorkError&)>> handlers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [code, handler] : handlers_) {
      if (!code || *code == error.code) handlers.push_back(handler);
    }
  }
  for (const auto& handler : handlers) handler(error);
}

void Workgroup::Impl::OnDeath(Slot& slot, const std::string& why) {
  std::map<std::uint64_t, Pending> owed;
  std::unique_ptr<WorkerProcess> dead;
  std::string how;
  {
    std::lock_guard lock(slot.mutex);
    if (slot.process) slot.process->Kill();  // first: unblocks a sender stuck on its ring
  }
  bool restart = false;
  {
    std::lock_guard send_lock(slot.send_mutex);
    std::lock_guard lock(slot.mutex);
    dead = std::move(slot.process);
    owed = std::move(slot.pending);
    slot.pending.clear();
    slot.probes.clear();
    slot.members = 0;
    restart = !slot.retired && !stopping_.load() && options_.health.restart;
    if (!restart) slot.retired = true;
  }
  if (dead) how = dead->Reap();  // its blocks are free to reuse only once it is gone
  dead.reset();
  if (restart) {
    if (Start(slot)) {
      ++restarts_;
    } else {
      std::lock_guard lock(slot.mutex);
      slot.retired = true;
    }
  }
  const std::string what =
      why + (how.empty() || why.find(how) != std::string::npos ? "" : " (" + how + ")");
  // The worker serves requests in the order they were sent: the oldest one was running when it
  // died (or stalled), and only that one is blamed; the others were waiting behind it.
  std::uint64_t blamed = 0, oldest = UINT64_MAX;
  for (const auto& [id, pending] : owed) {
    if (pending.sent_ns < oldest) oldest = pending.sent_ns, blamed = id;
  }
  if (!stopping_.load()) Report({WorkErrc::kCommunication, what, slot.index, false});
  bool replaced = false;
  {
    std::lock_guard lock(slot.mutex);
    replaced = slot.process != nullptr;
  }
  for (auto& [id, pending] : owed) {
    const auto kind = pending.message.kind;
    bool recreated = false;
    {
      std::lock_guard lock(slot.mutex);
      recreated = replaced && slot.recreate.contains(pending.message.member);
    }
    if (stopping_.load()) {
      Complete(pending, tl::unexpected(WorkError{WorkErrc::kShutdown, what, slot.index}));
    } else if (kind == MessageKind::kCreateMember && recreated) {
      // A re-creation in flight: the new process got its own.
    } else if ((kind == MessageKind::kInvoke && !recreated) ||
               kind == MessageKind::kCreateMember) {
      Complete(pending, tl::unexpected(WorkError{WorkErrc::kMember,
                                                 "member lost: " + what, slot.index}));
    } else if (id == blamed &&
               ++pending.attempts > pending.max_retries.value_or(options_.health.max_retries)) {
      Complete(pending, tl::unexpected(WorkError{
                            WorkErrc::kCommunication,
                            "poison: the request killed " + std::to_string(pending.attempts) +
                                " workers in a row; last: " + what,
                            slot.index, true}));
    } else {
      ++retries_;
      Submit(std::move(pending), kind == MessageKind::kInvoke ? slot.index : -1);
    }
  }
}

void Workgroup::Impl::CheckHealth(Slot& slot) {
  const auto& health = options_.health;
  const auto now = detail::MonotonicNanos();
  const auto timeout = static_cast<std::uint64_t>(nanoseconds(health.timeout).count());
  bool stalled = false;
  bool probe = false;
  {
    std::lock_guard lock(slot.mutex);
    if (timeout != 0) {
      for (const auto& [id, pending] : slot.pending) stalled |= now - pending.sent_ns > timeout;
      for (const auto& [id, sent] : slot.probes) stalled |= now - sent > timeout;
    }
    const auto interval = static_cast<std::uint64_t>(nanoseconds(health.probe_interval).count());
    probe = interval != 0 && slot.probes.empty() && now - slot.last_probe_ns >= interval;
  }
  if (stalled) {
    return OnDeath(slot, "worker " + std::to_string(slot.index) + " stalled: no answer for " +
                             std::to_string(health.timeout.count()) + " ms");
  }
  if (probe) (void)Probe(slot.index, milliseconds(0));
}

ProbeResult Workgroup::Impl::Probe(int index, milliseconds timeout) {
  ProbeResult result;
  Slot* slot = SlotAt(index);
  if (slot == nullptr) return result;
  WorkMessage message;
  message.id = next_id_++;
  message.kind = MessageKind::kProbe;
  const auto since = std::chrono::steady_clock::now();
  const bool supervisor = timeout.count() == 0;
  {
    // The supervisor never waits for a sender: a sender may be blocked on a socket that only
    // the supervisor drains (copy transport). A busy send means traffic; probe next time.
    std::unique_lock send_lock(slot->send_mutex, std::defer_lock);
    if (supervisor ? !send_lock.try_lock() : (send_lock.lock(), false)) return result;
    std::lock_guard lock(slot->mutex);
    if (!slot->process || slot->retired) return result;
    const auto now = detail::MonotonicNanos();
    result.heartbeat_age = std::chrono::duration_cast<milliseconds>(
        nanoseconds(now - std::min(now, slot->process->heartbeat())));
    if (!slot->process->requests().TryPush(message)) return result;
    slot->probes[message.id] = now;
    slot->last_probe_ns = now;
    if (!supervisor) slot->probe_answers.emplace(message.id, std::nullopt);
  }
  if (supervisor) return result;  // answered later; a late answer clears the stall check
  std::unique_lock lock(slot->mutex);
  if (slot->probe_answered.wait_for(
          lock, timeout, [&] { return slot->probe_answers[message.id].has_value(); })) {
    result.alive = true;
    result.round_trip = std::chrono::duration_cast<std::chrono::microseconds>(
        *slot->probe_answers[message.id] - since);
  }
  slot->probe_answers.erase(message.id);
  return result;
}

tl::expected<MemberProxy, WorkError> Workgroup::Impl::AddMember(
    Workgroup* group, const std::string& type, std::span<const std::byte> args,
    std::span<const std::byte> secret, bool recreate) {
  Slot* slot = LeastLoaded(true);
  if (slot == nullptr) {
    return tl::unexpected(WorkError{WorkErrc::kCommunication, "no live worker for a member"});
  }
  std::promise<WorkResult> created;
  auto future = created.get_future();
  Pending pending;
  pending.message.id = next_id_++;
  pending.message.kind = MessageKind::kCreateMember;
  pending.message.member = pending.message.id;
  pending.message.set_text(type);
  pending.args.assign(reinterpret_cast<const char*>(args.data()), args.size());
  pending.secret.bytes.assign(reinterpret_cast<const char*>(secret.data()), secret.size());
  Pending creation = pending;
  pending.done = [&created](WorkResult result) { created.set_value(std::move(result)); };
  const auto id = pending.message.id;
  Send(*slot, std::move(pending));
  auto result = future.get();
  if (!result) return tl::unexpected(result.error());
  std::lock_guard lock(slot->mutex);
  ++slot->members;
  if (recreate) slot->recreate.emplace(id, std::move(creation));
  return MemberProxy(group, slot->index, id);
}

void Workgroup::Impl::DestroyMember(const MemberProxy& member) {
  Slot* slot = SlotAt(member.worker());
  if (slot == nullptr) return;
  WorkMessage message;
  message.kind = MessageKind::kDestroyMember;
  message.member = member.id();
  std::lock_guard send_lock(slot->send_mutex);
  std::lock_guard lock(slot->mutex);
  slot->recreate.erase(member.id());
  if (!slot->process || slot->retired) return;
  if (slot->process->requests().Push(message, std::chrono::seconds(1)) && slot->members > 0) {
    --slot->members;
  }
}

bool Workgroup::Impl::Kill(int index) {
  Slot* slot = SlotAt(index);
  if (slot == nullptr) return false;
  {
    std::lock_guard lock(slot->mutex);
    if (slot->retired || !slot->process) return false;
    slot->retired = true;  // the supervisor sees the death, re-routes, and does not restart
    slot->process->Kill();
  }
  return true;
}

std::vector<int> Workgroup::Impl::workers() const {
  std::vector<int> live;
  std::lock_guard lock(mutex_);
  for (const auto& slot : slots_) {
    std::lock_guard slot_lock(slot->mutex);
    if (!slot->retired && slot->process) live.push_back(slot->index);
  }
  return live;
}

int Workgroup::Impl::pid(int index) const {
  Slot* slot = SlotAt(index);
  if (slot == nullptr) return 0;
  std::lock_guard lock(slot->mutex);
  return slot->process && !slot->retired ? slot->process->pid() : 0;
}

void Workgroup::Impl::AttachArena(const shm::BlockPool& pool) {
  auto view = shm::PoolView::Attach(pool.name());
  if (!view) throw std::runtime_error("arena: " + shm::Describe(view.error()));
  {
    std::lock_guard lock(mutex_);
    arenas_.insert_or_assign(pool.segment_id(), std::pair(pool.name(), std::move(*view)));
  }
  WorkMessage attach;
  attach.kind = MessageKind::kAttachArena;
  attach.set_text(pool.name());
  for (const int index : workers()) {
    Slot* slot = SlotAt(index);
    std::lock_guard send_lock(slot->send_mutex);
    std::lock_guard lock(slot->mutex);
    if (slot->process) (void)slot->process->requests().Push(attach, std::chrono::seconds(5));
  }
}

void Workgroup::Impl::DetachArena(std::uint32_t segment_id) {
  {
    std::lock_guard lock(mutex_);
    arenas_.erase(segment_id);
  }
  WorkMessage detach;
  detach.kind = MessageKind::kDetachArena;
  detach.args[0] = segment_id;
  for (const int index : workers()) {
    Slot* slot = SlotAt(index);
    std::lock_guard send_lock(slot->send_mutex);
    std::lock_guard lock(slot->mutex);
    if (slot->process) (void)slot->process->requests().Push(detach, std::chrono::seconds(5));
  }
}

void Workgroup::Impl::Shutdown(milliseconds deadline) {
  if (stopping_.exchange(true)) return;
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<Slot*> slots;
  {
    std::lock_guard lock(mutex_);
    for (const auto& slot : slots_) slots.push_back(slot.get());
  }
  for (Slot* slot : slots) {  // let each finish what it has, then ask it to leave
    for (;;) {
      {
        std::lock_guard lock(slot->mutex);
        if (slot->pending.empty() || !slot->process) break;
      }
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    WorkMessage leave;
    leave.kind = MessageKind::kShutdown;
    std::lock_guard send_lock(slot->send_mutex);
    std::lock_guard lock(slot->mutex);
    if (slot->process) (void)slot->process->requests().TryPush(leave);
  }
  for (Slot* slot : slots) {
    for (;;) {
      std::string how;
      {
        std::lock_guard lock(slot->mutex);
        if (!slot->process || slot->process->Exited(how)) break;
      }
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    slot->stop.store(true);
    if (slot->supervisor.joinable()) slot->supervisor.join();
    std::map<std::uint64_t, Pending> owed;
    {
      std::lock_guard lock(slot->mutex);
      slot->retired = true;
      owed = std::move(slot->pending);
      slot->process.reset();  // kills what is left
    }
    for (auto& [id, pending] : owed) {
      Complete(pending, tl::unexpected(WorkError{WorkErrc::kShutdown,
                                                 "workgroup stopped first", slot->index}));
    }
  }
}

Workgroup::Workgroup(WorkgroupOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Workgroup::~Workgroup() { impl_->Shutdown(milliseconds(1'000)); }
void Workgroup::Launch() { impl_->Launch(); }
void Workgroup::Shutdown(milliseconds deadline) { impl_->Shutdown(deadline); }
void Workgroup::AttachArena(const shm::BlockPool& pool) { impl_->AttachArena(pool); }
void Workgroup::DetachArena(std::uint32_t segment_id) { impl_->DetachArena(segment_id); }

void Workgroup::Dispatch(Request request, std::function<void(WorkResult)> done) {
  impl_->Submit(impl_->MakePending(MessageKind::kRun, 0, std::move(request), std::move(done)), -1);
}

void MemberProxy::Invoke(Request request, std::function<void(WorkResult)> done) const {
  group_->impl_->Submit(
      group_->impl_->MakePending(MessageKind::kInvoke, id_, std::move(request), std::move(done)),
      worker_);
}

namespace {
// The future-returning forms: a promise fulfilled by the callback.
template <class Call>
std::future<WorkResult> AsFuture(Call call) {
  auto promise = std::make_shared<std::promise<WorkResult>>();
  auto future = promise->get_future();
  call([promise](WorkResult result) { promise->set_value(std::move(result)); });
  return future;
}
}  // namespace

std::future<WorkResult> Workgroup::Dispatch(Request request) {
  return AsFuture([&](auto done) { Dispatch(std::move(request), std::move(done)); });
}

std::future<WorkResult> MemberProxy::Invoke(Request request) const {
  return AsFuture([&](auto done) { Invoke(std::move(request), std::move(done)); });
}

tl::expected<MemberProxy, WorkError> Workgroup::AddMember(const std::string& type,
                                                          std::span<const std::byte> args,
                                                          std::span<const std::byte> secret,
                                                          bool recreate) {
  return impl_->AddMember(this, type, args, secret, recreate);
}
void Workgroup::DestroyMember(const MemberProxy& member) { impl_->DestroyMember(member); }
int Workgroup::AddWorker() { return impl_->AddWorker(); }
bool Workgroup::Kill(int index) { return impl_->Kill(index); }
std::vector<int> Workgroup::workers() const { return impl_->workers(); }
int Workgroup::pid(int index) const { return impl_->pid(index); }
ProbeResult Workgroup::Probe(int index, milliseconds timeout) {
  return impl_->Probe(index, timeout);
}
void Workgroup::OnError(WorkErrc code, std::function<void(const WorkError&)> handler) {
  impl_->OnError(code, std::move(handler));
}
void Workgroup::OnAnyError(std::function<void(const WorkError&)> handler) {
  impl_->OnError(std::nullopt, std::move(handler));
}
WorkgroupStats Workgroup::stats() const { return impl_->stats(); }
Transport Workgroup::transport() const { return impl_->transport(); }

}  // namespace zcpipe
