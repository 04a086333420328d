// One worker process as its coordinator sees it. Private to zcpipe::workgroup.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "worker_protocol.h"
#include "zcpipe/shm/segment.h"
#include "zcpipe/workgroup/error.h"

namespace zcpipe::workgroup::detail {

// A spawned worker: its process, its control segment (owned here) with the coordinator's ends
// of the two rings, and the coordinator's end of the socket pair.
//
// Thread-safety: requests() is one producer (callers serialise), responses() one consumer
// (the supervisor thread); Kill, Exited, Reap and the accessors are safe from any thread.
class WorkerProcess {
 public:
  // Runs `executable` with the worker flag, in a process group of its own (a terminal's Ctrl-C
  // goes to the coordinator, which shuts workers down), sends it the control segment's name and
  // waits up to `timeout` for it to attach. Errors: kInitialization, with the failed system
  // call's errno when there is one.
  static tl::expected<std::unique_ptr<WorkerProcess>, WorkError> Spawn(
      const std::filesystem::path& executable, int index, std::chrono::milliseconds timeout);

  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  ~WorkerProcess();  // kills and reaps a process still running; closes the socket

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int socket() const { return fd_; }
  [[nodiscard]] shm::RingProducer<WorkMessage>& requests() { return *requests_; }
  [[nodiscard]] shm::RingConsumer<WorkMessage>& responses() { return *responses_; }
  // When the worker last showed life (MonotonicNanos()).
  [[nodiscard]] std::uint64_t heartbeat() const;

  void Kill() const;
  // Whether the process ended (without blocking); then `how` describes it.
  [[nodiscard]] bool Exited(std::string& how);
  // Kills and waits for the process; describes how it ended.
  std::string Reap();

 private:
  WorkerProcess(pid_t pid, int fd, shm::Segment control);
  pid_t pid_;
  int fd_;
  std::mutex reap_mutex_;            // Exited and Reap may run on different threads
  std::atomic<bool> reaped_{false};  // guarded by reap_mutex_ for writes; Kill reads it
  std::string how_;                  // guarded by reap_mutex_
  shm::Segment control_;
  std::optional<shm::RingProducer<WorkMessage>> requests_;
  std::optional<shm::RingConsumer<WorkMessage>> responses_;
};

}  // namespace zcpipe::workgroup::detail
