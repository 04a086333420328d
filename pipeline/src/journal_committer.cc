#include "journal_committer.h"

namespace zcpipe::detail {

JournalCommitter::JournalCommitter(Journal journal, stages::ContainerWriter& writer,
                                   Quarantine* quarantine, std::chrono::milliseconds interval)
    : journal_(std::move(journal)),
      writer_(writer),
      quarantine_(quarantine),
      interval_(interval),
      thread_([this] { Run(); }) {}

JournalCommitter::~JournalCommitter() { Stop(); }

JournalPoint JournalCommitter::PointNow(JournalPoint covered) const {
  covered.frames = writer_.chunks_appended();
  covered.container_bytes = writer_.bytes_written();
  covered.rejects_bytes = quarantine_ != nullptr ? quarantine_->size() : 0;
  return covered;
}

stages::ContainerStatus JournalCommitter::Commit(const JournalPoint& covered) {
  last_commit_ = Clock::now();
  if (quarantine_ != nullptr) {  // the point covers them: in the file before it (Run fsyncs it)
    if (auto flushed = quarantine_->Flush(); !flushed) return flushed;
  }
  {
    std::lock_guard lock(mutex_);
    next_ = PointNow(covered);  // latest wins: the thread takes the newest when it is free
  }
  wanted_.notify_one();
  return {};
}

void JournalCommitter::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wanted_.wait(lock, [this] { return next_ || stop_; });
    if (stop_) return;
    const JournalPoint point = *next_;
    next_.reset();
    lock.unlock();
    // fsync covers every frame appended before the point was taken; only then is it recorded.
    const bool recorded =
        writer_.Sync() && (quarantine_ == nullptr || quarantine_->Sync()) && journal_.Append(point);
    lock.lock();
    if (!recorded) {
      journal_.Remove();  // a stale journal must not be resumed from
      broken_ = true;
      return;
    }
  }
}

bool JournalCommitter::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wanted_.notify_one();
  if (thread_.joinable()) thread_.join();
  return !broken_;
}

bool JournalCommitter::KeepForResume(const JournalPoint& covered) {
  if (quarantine_ != nullptr && (!quarantine_->Flush() || !quarantine_->Sync())) return false;
  if (!writer_.Sync() || !journal_.Append(PointNow(covered))) return false;
  writer_.Keep();
  if (quarantine_ != nullptr) quarantine_->Keep();
  return true;
}

}  // namespace zcpipe::detail
