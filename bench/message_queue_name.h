// Names of the boost::interprocess message queues the benchmarks create, and their cleanup.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>

#include "transport_support.h"

namespace zcpipe::bench {

inline constexpr std::string_view kQueuePrefix = "zcpipe-bench-";  // then "<creator pid>-mq-..."

// A queue name, "zcpipe-bench-<pid>-mq-<role>", removed before use and again when the creating
// process is done with it.
class QueueName {
 public:
  explicit QueueName(std::string_view role)
      : name_(std::string(kQueuePrefix) + std::to_string(::getpid()) + "-mq-" + std::string(role)),
        creator_(::getpid()) {
    boost::interprocess::message_queue::remove(name_.c_str());
  }
  QueueName(const QueueName&) = delete;
  QueueName& operator=(const QueueName&) = delete;
  ~QueueName() {
    if (::getpid() == creator_) boost::interprocess::message_queue::remove(name_.c_str());
  }
  [[nodiscard]] const char* c_str() const { return name_.c_str(); }

 private:
  std::string name_;
  pid_t creator_;
};

// Removes the queues of benchmark runs that were killed mid-benchmark (their creator is gone).
inline void RemoveStaleQueues() {
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/dev/shm", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kQueuePrefix)) continue;
    const int pid = std::atoi(name.c_str() + kQueuePrefix.size());
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
      boost::interprocess::message_queue::remove(name.c_str());
    }
  }
}

// kTimeout from now, as the queues' timed_send / timed_receive want it.
inline boost::posix_time::ptime QueueDeadline() {
  return boost::posix_time::microsec_clock::universal_time() +
         boost::posix_time::microseconds(
             std::chrono::duration_cast<std::chrono::microseconds>(kTimeout).count());
}

}  // namespace zcpipe::bench
