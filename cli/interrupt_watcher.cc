#include "interrupt_watcher.h"

#include <pthread.h>

#include <csignal>

namespace zcpipe::cli {
namespace {

sigset_t Interrupts() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void InterruptWatcher::BlockInterrupts() {
  const sigset_t set = Interrupts();
  (void)::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)), thread_([this] { Watch(); }) {}

InterruptWatcher::~InterruptWatcher() {
  stopping_.store(true);
  (void)::pthread_kill(thread_.native_handle(), SIGHUP);  // wakes sigwait
  thread_.join();
}

void InterruptWatcher::Watch() {
  const sigset_t set = Interrupts();
  for (;;) {
    int signal = 0;
    if (::sigwait(&set, &signal) != 0) continue;
    if (stopping_.load()) return;
    if (!interrupted_.exchange(true)) on_interrupt_();
  }
}

}  // namespace zcpipe::cli
