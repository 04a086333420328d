// Workgroup: a supervised pool of worker processes that exchange handles, not payloads.
#pragma once

#include <tl/expected.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zcpipe/shm/block_pool.h"
#include "zcpipe/shm/handle.h"
#include "zcpipe/workgroup/error.h"
#include "zcpipe/workgroup/transport.h"
#include "zcpipe/workgroup/worker.h"

namespace zcpipe::workgroup {

// The result of a request: the part of its output block the worker wrote.
using WorkResult = tl::expected<shm::Handle, WorkError>;

// How closely workers are watched. A worker that dies is always detected and replaced; these
// settings add probes and a deadline for requests.
struct HealthConfig {
  enum class Mode : std::uint8_t { kDisabled, kAggressive, kRelaxed };
  // Probe an idle worker this often (0: never).
  std::chrono::milliseconds probe_interval{0};
  // A request (or probe) unanswered for this long means the worker stalled: it is killed and
  // replaced (0: no deadline).
  std::chrono::milliseconds timeout{0};
  // Times a request is re-run after its worker died before it is reported as poison.
  unsigned max_retries = 2;
  bool restart = true;  // replace dead workers
  // The bytes a worker sends on its socket after an answer (error text, a copied result) must
  // all arrive within this long after the answer; else it is treated as stalled (killed,
  // replaced, the request re-run). Always on: the supervisor that reads them also checks health.
  std::chrono::milliseconds answer_timeout{2'000};

  // kDisabled: no probes, no deadline. kAggressive: probe every 50 ms, 2 s deadline.
  // kRelaxed: probe every 1 s, 30 s deadline.
  [[nodiscard]] static HealthConfig For(Mode mode);
};

struct WorkgroupOptions {
  unsigned workers = 2;
  HealthConfig health = HealthConfig::For(HealthConfig::Mode::kRelaxed);
  // kCopy sends payload bytes through the worker's socket instead of handles (the baseline).
  Transport transport = Transport::kZeroCopy;
  // The program the workers run; it must call RunIfWorker first in main().
  std::filesystem::path executable = "/proc/self/exe";
};

// One request: run task `task` (or call a member) with `input` in place, writing into `output`.
// Both handles name blocks of an arena given to AttachArena; either may be invalid (empty).
// The caller owns both blocks throughout; the workgroup never allocates or releases them.
struct Request {
  std::string task = {};
  shm::Handle input = {};
  shm::Handle output = {};
  std::array<std::uint64_t, kTaskArgs> args = {};       // TaskContext::arg(i)
  std::function<void(std::uint64_t)> on_progress = {};  // TaskContext::Progress, workgroup thread
  // Checks what the worker wrote (after the workgroup's own handle checks), on a workgroup
  // thread. False means the worker returned garbage: it is treated as crashed (killed,
  // replaced, the request re-run), as for any other invalid answer.
  std::function<bool(const shm::Handle& result)> validate = {};
  // Overrides HealthConfig::max_retries for this request (e.g. 0 while narrowing down which
  // part of a poison request kills workers).
  std::optional<unsigned> max_retries = {};
  // For a task that fills most of its output block: the worker makes the whole block resident
  // in one call (shm::PoolView::Populate) the first time it sees it, instead of taking a page
  // fault per 4 KiB page as the task writes. Not for a task that writes a few bytes of a large
  // block: every page of the block would be allocated. Ignored with Transport::kCopy.
  bool populate_output = false;
};

struct ProbeResult {
  bool alive = false;  // the process exists and answered
  std::chrono::microseconds round_trip{0};
  std::chrono::milliseconds heartbeat_age{0};  // since the worker last showed life
};

struct WorkgroupStats {
  std::uint64_t completed = 0;     // requests answered (either way)
  std::uint64_t restarts = 0;      // workers replaced after dying or stalling
  std::uint64_t retries = 0;       // requests re-run on another worker
  std::uint64_t bytes_copied = 0;  // payload bytes sent through sockets (kCopy only)
};

class Workgroup;

// Calls a member living in one worker. Copyable; valid until DestroyMember or the workgroup's
// end. If its worker dies, the member (and its state) is gone: calls fail with kMember.
class MemberProxy {
 public:
  [[nodiscard]] std::future<WorkResult> Invoke(Request request) const;
  // The same, calling `done` (on a supervisor thread) instead of fulfilling a future.
  void Invoke(Request request, std::function<void(WorkResult)> done) const;
  [[nodiscard]] int worker() const { return worker_; }
  [[nodiscard]] std::uint64_t id() const { return id_; }

 private:
  friend class Workgroup;
  MemberProxy(Workgroup* group, int worker, std::uint64_t id)
      : group_(group), worker_(worker), id_(id) {}
  Workgroup* group_;
  int worker_;
  std::uint64_t id_;
};

// A pool of worker processes, like isolates: separate heaps, a crash stays in its worker, and
// requests carry handles into shared-memory arenas. One thread per worker supervises it:
// completes requests, detects death (any signal) and stalls, restarts the worker, re-runs its
// requests elsewhere (bounded) and reports a request that keeps killing workers as poison.
// The coordinator holds no lock that a worker can touch: rings are lock-free.
//
// Ownership: owns the worker processes and their control segments, not the arenas.
// Thread-safety: every method may be called from any thread, also concurrently; callbacks and
// error handlers run on the workgroup's supervisor threads and must not block for long, nor
// wait for a result (a future's get, AddMember). They may Dispatch and Invoke: a request whose
// send could wait (a copy payload, a full ring) is handed to a workgroup thread, so a callback
// never waits on a worker (which may be waiting for the callback's thread to take its answer).
class Workgroup {
 public:
  explicit Workgroup(WorkgroupOptions options = {});
  Workgroup(const Workgroup&) = delete;
  Workgroup& operator=(const Workgroup&) = delete;
  ~Workgroup();  // Shutdown(1 s)

  // Starts the workers: start-up, like a constructor. Throws std::runtime_error if one cannot
  // start (its WorkError's message; also reported to the kInitialization handlers).
  void Launch();
  // Stops accepting requests, lets workers finish what they have until `deadline`, then kills
  // the rest. Requests not answered fail with kShutdown.
  void Shutdown(std::chrono::milliseconds deadline);

  // Makes `pool`'s blocks resolvable in every worker (now and after restarts).
  // REQUIRES: pool outlives DetachArena(pool.segment_id()) or the workgroup, and is not moved
  // from until then (the workgroup resolves handles through it).
  void AttachArena(const shm::BlockPool& pool);
  // Undoes AttachArena: the workgroup stops resolving the arena's handles at once; each worker
  // unmaps it after the requests already sent to it, and a worker started later never maps
  // it. The pool may then be destroyed. REQUIRES: no request naming one of its blocks is in
  // flight; one sent later fails (kJob, or kMember for a member call: the handle does not
  // resolve in the worker).
  void DetachArena(std::uint32_t segment_id);

  // Runs `request.task` on the least-loaded worker. REQUIRES: Launch() was called.
  [[nodiscard]] std::future<WorkResult> Dispatch(Request request);
  // The same, calling `done` (on a supervisor thread) instead of fulfilling a future.
  void Dispatch(Request request, std::function<void(WorkResult)> done);

  // Creates a member of the type registered as `type` on the least-loaded worker, passing
  // `args` (copied) and `secret` (over the worker's private channel, never shared memory).
  // Blocks until the member exists. With `recreate`, a member whose worker is replaced is made
  // again there (same args and secret, fresh state; the secret is kept until then) and its
  // calls in flight re-run like dispatched requests: for members whose state can be rebuilt.
  // Errors: kInitialization (unknown type, set-up threw), kCommunication.
  [[nodiscard]] tl::expected<MemberProxy, WorkError> AddMember(
      const std::string& type, std::span<const std::byte> args = {},
      std::span<const std::byte> secret = {}, bool recreate = false);
  void DestroyMember(const MemberProxy& member);

  // Starts one more worker; returns its index. Indices are never reused.
  // Errors: kInitialization (the worker did not start; also reported to the handlers).
  [[nodiscard]] tl::expected<int, WorkError> AddWorker();
  // Kills worker `index` (SIGKILL) and retires it; its requests re-run elsewhere, its members
  // are gone. Returns false if there is no such live worker.
  bool Kill(int index);
  [[nodiscard]] std::vector<int> workers() const;  // live indices, ascending
  [[nodiscard]] int pid(int index) const;          // 0 when not running
  [[nodiscard]] ProbeResult Probe(int index, std::chrono::milliseconds timeout);

  // Calls `handler` for every error of that kind (any request's), in addition to failing the
  // request. OnAnyError sees all kinds.
  void OnError(WorkErrc code, std::function<void(const WorkError&)> handler);
  void OnAnyError(std::function<void(const WorkError&)> handler);

  [[nodiscard]] WorkgroupStats stats() const;
  [[nodiscard]] Transport transport() const;

  class Impl;

 private:
  friend class MemberProxy;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zcpipe::workgroup
