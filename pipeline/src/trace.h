// TraceRecorder: a job's timeline in Chrome trace-event JSON (Perfetto, chrome://tracing).
// Private to zcpipe::pipeline.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace zcpipe::detail {

// Buffers trace events in memory and renders them as one Chrome trace-event JSON file
// ({"traceEvents": [...]}) at the end of a job (the job writes it: JobConfig::trace). Tracks are
// (pid, tid) pairs named with process_name / thread_name metadata: the coordinator's stage threads
// get one track per (stage, thread) through ThreadTrack; a worker process names its own tracks with
// NameProcess / NameTrack and adds slices on them with Slice. Timestamps are steady-clock time
// points, written in microseconds since the recorder's origin.
//
// Ownership: owns its buffered events. Thread-safety: every member is safe from any number of
// threads at once (one mutex; a few events per chunk and stage, so it is never contended).
class TraceRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  struct Track {
    std::uint32_t pid = 0;
    std::uint32_t tid = 0;
  };
  // Named integer arguments shown with a slice (e.g. {"chunk", 3}).
  using Args = std::vector<std::pair<std::string_view, std::uint64_t>>;

  // `process` names the calling process's track group (e.g. "zcpipe job 1").
  TraceRecorder(Clock::time_point origin, std::string_view process);

  // The calling thread's track for `stage`, named "STAGE #N" on first use.
  [[nodiscard]] Track ThreadTrack(std::string_view stage);
  // Names process `pid`'s track group, and a track `tid` in it (for worker processes).
  void NameProcess(std::uint32_t pid, std::string_view name);
  void NameTrack(Track track, std::string_view name);

  // A complete slice ("X" event) from `start` to `end` on `track`.
  void Slice(Track track, std::string_view name, Clock::time_point start, Clock::time_point end,
             const Args& args = {});
  // A counter sample ("C" event) of the calling process, e.g. "arena bytes in use".
  void Counter(std::string_view name, Clock::time_point at, double value);

  // Every event recorded so far, as the whole trace file.
  [[nodiscard]] std::string Json() const;

 private:
  double Micros(Clock::time_point at) const;

  const Clock::time_point origin_;
  const std::uint32_t pid_;
  mutable std::mutex mutex_;
  std::string events_;  // guarded by mutex_: the JSON objects so far, each followed by ",\n"
  std::map<std::pair<std::string, std::thread::id>, Track, std::less<>> tracks_;  // by mutex_
  std::map<std::string, std::uint32_t, std::less<>> per_stage_;                   // by mutex_
  std::uint32_t next_tid_ = 1;                                                    // by mutex_
};

}  // namespace zcpipe::detail
