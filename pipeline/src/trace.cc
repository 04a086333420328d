#include "trace.h"

#include <unistd.h>

#include <cstdio>

#include "zcpipe/stages/export.h"

namespace zcpipe::detail {
namespace {

void AppendNumber(double value, std::string& out) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.3f", value);
  out.append(buffer, static_cast<std::size_t>(n));
}

// {"ph":"PH","pid":P,"tid":T,"name":NAME,  (the caller closes the object)
void AppendHead(char phase, std::uint32_t pid, std::uint32_t tid, std::string_view name,
                std::string& out) {
  out += R"({"ph":")";
  out += phase;
  out += R"(","pid":)" + std::to_string(pid) + R"(,"tid":)" + std::to_string(tid) + R"(,"name":)";
  stages::AppendJsonString(name, out);
}

void AppendMetadata(std::string_view kind, std::uint32_t pid, std::uint32_t tid,
                    std::string_view name, std::string& out) {
  AppendHead('M', pid, tid, kind, out);
  out += R"(,"args":{"name":)";
  stages::AppendJsonString(name, out);
  out += "}},\n";
}

}  // namespace

TraceRecorder::TraceRecorder(Clock::time_point origin, std::string_view process)
    : origin_(origin), pid_(static_cast<std::uint32_t>(::getpid())) {
  NameProcess(pid_, process);
}

double TraceRecorder::Micros(Clock::time_point at) const {
  return std::chrono::duration<double, std::micro>(at - origin_).count();
}

TraceRecorder::Track TraceRecorder::ThreadTrack(std::string_view stage) {
  std::lock_guard lock(mutex_);
  const auto key = std::make_pair(std::string(stage), std::this_thread::get_id());
  if (const auto found = tracks_.find(key); found != tracks_.end()) return found->second;
  const Track track{pid_, next_tid_++};
  tracks_.emplace(key, track);
  const auto number = ++per_stage_[key.first];
  AppendMetadata("thread_name", track.pid, track.tid, key.first + " #" + std::to_string(number),
                 events_);
  return track;
}

void TraceRecorder::NameProcess(std::uint32_t pid, std::string_view name) {
  std::lock_guard lock(mutex_);
  AppendMetadata("process_name", pid, 0, name, events_);
}

void TraceRecorder::NameTrack(Track track, std::string_view name) {
  std::lock_guard lock(mutex_);
  AppendMetadata("thread_name", track.pid, track.tid, name, events_);
}

void TraceRecorder::Slice(Track track, std::string_view name, Clock::time_point start,
                          Clock::time_point end, const Args& args) {
  std::string event;
  AppendHead('X', track.pid, track.tid, name, event);
  event += ",\"ts\":";
  AppendNumber(Micros(start), event);
  event += ",\"dur\":";
  AppendNumber(Micros(end) - Micros(start), event);
  event += ",\"args\":{";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != 0) event += ',';
    stages::AppendJsonString(args[i].first, event);
    event += ':' + std::to_string(args[i].second);
  }
  event += "}},\n";
  std::lock_guard lock(mutex_);
  events_ += event;
}

void TraceRecorder::Counter(std::string_view name, Clock::time_point at, double value) {
  std::string event;
  AppendHead('C', pid_, 0, name, event);
  event += ",\"ts\":";
  AppendNumber(Micros(at), event);
  event += ",\"args\":{\"value\":";
  AppendNumber(value, event);
  event += "}},\n";
  std::lock_guard lock(mutex_);
  events_ += event;
}

std::string TraceRecorder::Json() const {
  std::lock_guard lock(mutex_);
  // Every event ends in ",\n"; the last one's comma goes.
  const std::string_view events(events_.data(), events_.empty() ? 0 : events_.size() - 2);
  std::string json = R"({"displayTimeUnit":"ms","traceEvents":[)";
  json += '\n';
  json += events;
  json += "\n]}\n";
  return json;
}

}  // namespace zcpipe::detail
