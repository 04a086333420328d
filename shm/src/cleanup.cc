#include "cleanup.h"

#include <sys/mman.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "zcpipe/shm/segment.h"

namespace zcpipe::shm::detail {
namespace {

// A fixed array rather than a container: the signal handler walks it, so it must never be
// reallocated, and it may only use async-signal-safe calls (getpid, shm_unlink, sigaction).
constexpr std::size_t kMaxOwned = kMaxOwnedSegments;
constexpr pid_t kReserved = -1;

struct Entry {
  std::atomic<pid_t> owner{0};  // 0: free; kReserved: being filled; else the creating pid
  char path[64]{};              // "/name", as shm_unlink wants it
};
std::array<Entry, kMaxOwned> g_entries;

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
std::array<struct sigaction, kSignals.size()> g_previous;

// Only the creating process removes: a forked child inherits the registry but owns nothing.
void UnlinkOwned() {
  const pid_t self = ::getpid();
  for (auto& entry : g_entries) {
    if (entry.owner.load(std::memory_order_acquire) == self) ::shm_unlink(entry.path);
  }
}

void OnSignal(int signal, siginfo_t* info, void* context) {
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    if (kSignals[i] != signal) continue;
    const auto& previous = g_previous[i];
    if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(signal, info, context);  // the program handles it
      return;
    }
    if ((previous.sa_flags & SA_SIGINFO) == 0 && previous.sa_handler != SIG_DFL &&
        previous.sa_handler != SIG_IGN) {
      previous.sa_handler(signal);
      return;
    }
  }
  UnlinkOwned();  // default disposition: the process is about to die of this signal
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  (void)::sigaction(signal, &fallback, nullptr);
  (void)::raise(signal);  // delivered when this handler returns
}

void InstallHooks() {
  (void)std::atexit(UnlinkOwned);  // fails only past 32 hooks; signals still clean up
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    ::sigaction(kSignals[i], nullptr, &g_previous[i]);
    if ((g_previous[i].sa_flags & SA_SIGINFO) == 0 && g_previous[i].sa_handler == SIG_IGN) {
      continue;  // ignored (e.g. under nohup): keep it so
    }
    struct sigaction action {};
    action.sa_sigaction = OnSignal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(kSignals[i], &action, nullptr);
  }
}

}  // namespace

Status RegisterOwnedName(std::string_view name) {
  static std::once_flag installed;
  std::call_once(installed, InstallHooks);
  if (name.size() + 2 > sizeof(Entry::path)) return Fail(Errc::kInvalidArgument);
  for (auto& entry : g_entries) {
    pid_t expected = 0;
    if (!entry.owner.compare_exchange_strong(expected, kReserved)) continue;
    entry.path[0] = '/';
    std::memcpy(entry.path + 1, name.data(), name.size());
    entry.path[name.size() + 1] = '\0';
    entry.owner.store(::getpid(), std::memory_order_release);
    return {};
  }
  return Fail(Errc::kTooManySegments);
}

void ForgetOwnedName(std::string_view name) {
  const pid_t self = ::getpid();
  for (auto& entry : g_entries) {
    if (entry.owner.load(std::memory_order_acquire) == self &&
        std::string_view(entry.path + 1) == name) {
      entry.owner.store(0, std::memory_order_release);
      return;
    }
  }
}

}  // namespace zcpipe::shm::detail
