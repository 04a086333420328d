// Workgroup (workgroup.h): start-up, routing, members, resizing, shutdown, the public API.
#include "zcpipe/workgroup/workgroup.h"

#include <algorithm>
#include <stdexcept>

#include "worker_registry.h"
#include "workgroup_impl.h"

namespace zcpipe::workgroup {
namespace {
constexpr milliseconds kStartTimeout{10'000};
}  // namespace

const char* Name(WorkErrc code) {
  switch (code) {
    case WorkErrc::kJob:
      return "job";
    case WorkErrc::kMember:
      return "member";
    case WorkErrc::kInitialization:
      return "initialization";
    case WorkErrc::kCommunication:
      return "communication";
    case WorkErrc::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

HealthConfig HealthConfig::For(Mode mode) {
  switch (mode) {
    case Mode::kDisabled:
      return {};
    case Mode::kAggressive:
      return {milliseconds(50), milliseconds(2'000), 2, true};
    case Mode::kRelaxed:
      break;
  }
  return {milliseconds(1'000), milliseconds(30'000), 2, true};
}
Slot* Workgroup::Impl::SlotAt(int index) const {
  std::lock_guard lock(mutex_);
  if (index < 0 || static_cast<std::size_t>(index) >= slots_.size()) return nullptr;
  return slots_[static_cast<std::size_t>(index)].get();
}

tl::expected<void, WorkError> Workgroup::Impl::Start(Slot& slot, std::unique_ptr<Slot> adopt) {
  auto process = WorkerProcess::Spawn(options_.executable, slot.index, kStartTimeout);
  if (!process) {
    process.error().worker = slot.index;
    NotifyHandlers(process.error());
    return tl::unexpected(std::move(process.error()));
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
      if (!made) NotifyHandlers({WorkErrc::kInitialization, made.error().message, index, false});
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
  return {};
}

void Workgroup::Impl::Launch() {
  sender_ = std::thread([this] { SendDeferred(); });
  for (unsigned i = 0; i < options_.workers; ++i) {
    if (auto added = AddWorker(); !added) throw std::runtime_error(added.error().message);
  }
}

tl::expected<int, WorkError> Workgroup::Impl::AddWorker() {
  std::lock_guard add_lock(adding_);  // one at a time: indices are slots_' positions
  auto slot = std::make_unique<Slot>();
  {
    std::lock_guard lock(mutex_);
    slot->index = static_cast<int>(slots_.size());
  }
  Slot& added = *slot;
  const int index = added.index;
  if (auto started = Start(added, std::move(slot)); !started) {  // `added` is gone
    return tl::unexpected(std::move(started.error()));
  }
  added.supervisor = std::thread([this, &added] { Supervise(added); });
  return index;
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
  auto bytes = arena->second.second->Resolve(handle);  // by the pool's private generations
  return bytes ? *bytes : std::span<std::byte>{};
}

void Workgroup::Impl::Submit(Pending pending, int worker) {
  if (stopping_.load()) {
    return Complete(pending, tl::unexpected(WorkError{WorkErrc::kShutdown, "workgroup stopped"}));
  }
  if (detail::on_supervisor_thread) {
    Slot* slot = worker >= 0 ? SlotAt(worker) : LeastLoaded(false);
    if (slot != nullptr && TrySendNow(*slot, pending)) return;
    {
      std::lock_guard lock(deferred_mutex_);
      deferred_.emplace_back(worker, std::move(pending));
    }
    return deferred_changed_.notify_all();
  }
  Route(std::move(pending), worker);
}

bool Workgroup::Impl::TrySendNow(Slot& slot, Pending& pending) {
  std::span<const std::byte> payload;
  const WorkMessage message = OnTheWire(pending.message, payload);
  if (!payload.empty() || message.kind == MessageKind::kCreateMember) return false;  // a socket
  std::unique_lock send_lock(slot.send_mutex, std::try_to_lock);
  if (!send_lock.owns_lock()) return false;  // a sender has it, perhaps stuck on this worker
  std::lock_guard lock(slot.mutex);  // held until `pending` is on the books: its answer waits
  if (slot.retired || !slot.process || !slot.process->requests().TryPush(message)) return false;
  pending.sent_ns = detail::MonotonicNanos();
  slot.pending.emplace(message.id, std::move(pending));
  return true;
}

WorkMessage Workgroup::Impl::OnTheWire(const WorkMessage& message,
                                       std::span<const std::byte>& payload) const {
  WorkMessage wire = message;
  if (options_.transport == Transport::kCopy &&
      (message.kind == MessageKind::kRun || message.kind == MessageKind::kInvoke)) {
    payload = Bytes(message.input);
    wire.flags |= WorkMessage::kCopyPayload;
    wire.copy_bytes = static_cast<std::uint32_t>(payload.size());
    wire.input = {};
  }
  return wire;
}

void Workgroup::Impl::Route(Pending pending, int worker) {
  Slot* slot = worker >= 0 ? SlotAt(worker) : LeastLoaded(false);
  if (slot == nullptr) {
    return Complete(pending, tl::unexpected(WorkError{
                                 worker >= 0 ? WorkErrc::kMember : WorkErrc::kCommunication,
                                 "no live worker to run the request", worker}));
  }
  Send(*slot, std::move(pending));
}

void Workgroup::Impl::SendDeferred() {
  std::unique_lock lock(deferred_mutex_);
  for (;;) {
    deferred_changed_.wait(lock, [&] { return sender_stop_ || !deferred_.empty(); });
    if (sender_stop_) return;  // Shutdown fails what is left
    auto [worker, pending] = std::move(deferred_.front());
    deferred_.pop_front();
    sending_ = true;
    lock.unlock();
    Route(std::move(pending), worker);  // handed off before a stop: sent even while stopping
    lock.lock();
    sending_ = false;
    deferred_changed_.notify_all();
  }
}

void Workgroup::Impl::Send(Slot& slot, Pending pending) {
  std::span<const std::byte> payload;
  const WorkMessage message = OnTheWire(pending.message, payload);
  const bool copy = (message.flags & WorkMessage::kCopyPayload) != 0;
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
      return Complete(
          pending,
          tl::unexpected(
              stopping_.load()
                  ? WorkError{WorkErrc::kShutdown, "workgroup stopped", slot.index}
                  : WorkError{WorkErrc::kMember, "member lost: its worker is gone", slot.index}));
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
tl::expected<MemberProxy, WorkError> Workgroup::Impl::AddMember(Workgroup* group,
                                                                const std::string& type,
                                                                std::span<const std::byte> args,
                                                                std::span<const std::byte> secret,
                                                                bool recreate) {
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
  {
    std::lock_guard lock(mutex_);
    arenas_.insert_or_assign(pool.segment_id(), std::pair(pool.name(), &pool));
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
  const auto stopped_first = [this](Pending& pending, int worker) {
    Complete(pending,
             tl::unexpected(WorkError{WorkErrc::kShutdown, "workgroup stopped first", worker}));
  };
  {  // requests handed off before the stop are sent first, to be finished like the others
    std::unique_lock lock(deferred_mutex_);
    deferred_changed_.wait_until(lock, until, [&] { return deferred_.empty() && !sending_; });
  }
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
    {
      std::lock_guard lock(slot->mutex);
      if (slot->process) slot->process->Kill();  // first: unblocks a sender stuck on it
    }
    std::map<std::uint64_t, Pending> owed;
    {
      std::lock_guard send_lock(slot->send_mutex);
      std::lock_guard lock(slot->mutex);
      slot->retired = true;
      owed = std::move(slot->pending);
      slot->process.reset();
    }
    for (auto& [id, pending] : owed) stopped_first(pending, slot->index);
  }
  std::deque<std::pair<int, Pending>> unsent;
  {
    std::lock_guard lock(deferred_mutex_);
    sender_stop_ = true;
    unsent = std::move(deferred_);
  }
  deferred_changed_.notify_all();
  if (sender_.joinable()) sender_.join();
  for (auto& [worker, pending] : unsent) stopped_first(pending, worker);
}
Workgroup::Workgroup(WorkgroupOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
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
tl::expected<int, WorkError> Workgroup::AddWorker() { return impl_->AddWorker(); }
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

}  // namespace zcpipe::workgroup