// Workgroup supervision: each worker's supervisor thread completes its requests, checks what
// it returns, detects death and stalls, replaces it and re-routes or blames what it owed.

#include "workgroup_impl.h"

namespace zcpipe::workgroup {

void Workgroup::Impl::Supervise(Slot& slot) {
  detail::on_supervisor_thread = true;
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
    case MessageKind::kProgress: {
      std::function<void(std::uint64_t)> progress;
      {
        std::lock_guard lock(slot.mutex);
        const auto it = slot.pending.find(message.id);
        if (it != slot.pending.end()) progress = it->second.on_progress;
      }
      if (progress) progress(message.args[0]);
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
  // A worker that answers wrongly, or dies while answering, is treated as crashed: the request
  // goes back on its books, to be re-run (or blamed) by OnDeath.
  const auto crashed = [&](const char* what) {
    {
      std::lock_guard lock(slot.mutex);
      slot.pending.emplace(message.id, std::move(*pending));
    }
    OnDeath(slot, "worker " + std::to_string(slot.index) + " " + what);
  };
  const WorkMessage& request = pending->message;
  const bool member_call = request.kind == MessageKind::kInvoke;
  // The bytes that follow on the socket: capped, and due by a deadline, as the worker may lie
  // about them or never send them (this thread also checks every worker's health).
  const auto answer_deadline =
      detail::MonotonicNanos() +
      static_cast<std::uint64_t>(nanoseconds(options_.health.answer_timeout).count());
  const auto read_answer = [&](std::span<std::byte> into) -> const char* {
    switch (detail::ReadAllBy(process->socket(), into, answer_deadline)) {
      case detail::ReadOutcome::kDone:
        return nullptr;
      case detail::ReadOutcome::kClosed:
        return "died while answering";
      case detail::ReadOutcome::kTimedOut:
        break;
    }
    return "stalled while answering: the bytes its answer announced did not come in time";
  };
  if (message.status != MessageStatus::kOk) {
    if (message.copy_bytes > detail::kMaxErrorText) {
      return crashed("announced an error message longer than the 64 KiB cap");
    }
    std::string text(message.copy_bytes, '\0');
    if (const char* failed = read_answer(std::as_writable_bytes(std::span(text)))) {
      return crashed(failed);
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
  const bool valid = !given.valid()
                         ? got.length == 0
                         : got.segment == given.segment && got.block == given.block &&
                               got.generation == given.generation && got.offset >= given.offset &&
                               got.length <= given.length &&
                               got.offset - given.offset <= given.length - got.length &&
                               (!copy || message.copy_bytes == got.length);
  if (!valid) {
    return crashed("returned an invalid handle");
  }
  if (message.copy_bytes > 0) {
    const auto into = Bytes(got);
    if (into.size() != message.copy_bytes) return crashed("returned an invalid handle");
    if (const char* failed = read_answer(into)) return crashed(failed);
    bytes_copied_ += message.copy_bytes;
  }
  if (pending->validate && !pending->validate(got)) {
    return crashed("returned garbage");
  }
  Complete(*pending, got);
}

void Workgroup::Impl::Complete(Pending& pending, WorkResult result) {
  ++completed_;
  if (!result) NotifyHandlers(result.error());
  if (pending.done) pending.done(std::move(result));
}

void Workgroup::Impl::NotifyHandlers(const WorkError& error) {
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
  if (!stopping_.load()) NotifyHandlers({WorkErrc::kCommunication, what, slot.index, false});
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
    } else if ((kind == MessageKind::kInvoke && !recreated) || kind == MessageKind::kCreateMember) {
      Complete(pending,
               tl::unexpected(WorkError{WorkErrc::kMember, "member lost: " + what, slot.index}));
    } else if (id == blamed &&
               ++pending.attempts > pending.max_retries.value_or(options_.health.max_retries)) {
      Complete(pending, tl::unexpected(WorkError{WorkErrc::kCommunication,
                                                 "poison: the request killed " +
                                                     std::to_string(pending.attempts) +
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
  const auto timeout = static_cast<std::uint64_t>(nanoseconds(health.timeout).count());
  bool stalled = false;
  bool probe = false;
  {
    std::lock_guard lock(slot.mutex);
    // Read under the lock that guards every timestamp below, and compared without wrapping: a
    // request sent between an earlier read and the lock looked 2^64 ns old, a false stall that
    // killed a busy worker and failed its member's calls (about 1 isolated import in 60 on a
    // host with its two cores contended).
    const auto now = detail::MonotonicNanos();
    const auto overdue = [&](std::uint64_t since) {
      return detail::NanosSince(since, now) > timeout;
    };
    if (timeout != 0) {
      for (const auto& [id, pending] : slot.pending) stalled |= overdue(pending.sent_ns);
      for (const auto& [id, sent] : slot.probes) stalled |= overdue(sent);
    }
    const auto interval = static_cast<std::uint64_t>(nanoseconds(health.probe_interval).count());
    probe = interval != 0 && slot.probes.empty() &&
            detail::NanosSince(slot.last_probe_ns, now) >= interval;
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
        nanoseconds(detail::NanosSince(slot->process->heartbeat(), now)));
    if (!slot->process->requests().TryPush(message)) return result;
    slot->probes[message.id] = now;
    slot->last_probe_ns = now;
    if (!supervisor) slot->probe_answers.emplace(message.id, std::nullopt);
  }
  if (supervisor) return result;  // answered later; a late answer clears the stall check
  std::unique_lock lock(slot->mutex);
  if (slot->probe_answered.wait_for(lock, timeout,
                                    [&] { return slot->probe_answers[message.id].has_value(); })) {
    result.alive = true;
    result.round_trip = std::chrono::duration_cast<std::chrono::microseconds>(
        *slot->probe_answers[message.id] - since);
  }
  slot->probe_answers.erase(message.id);
  return result;
}

}  // namespace zcpipe::workgroup
