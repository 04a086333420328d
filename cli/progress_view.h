// ProgressView: what `zcpipe run` shows on stderr while its jobs run — one progress bar per job
// on a terminal, one JSON object per line for programs, or nothing — and the errors in between.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/pipeline/events.h"

namespace zcpipe::cli {

enum class ProgressMode { kAuto, kBar, kJson, kNone };  // kAuto: kBar on a terminal, else kNone

// Owns stderr while jobs run: errors go through Error() so that they do not tear the bars.
// Bars are redrawn in place (ANSI cursor movement), one line per running job: input,
// percentage, bytes, rows, MB/s, ETA; in color unless NO_COLOR is set. Below them, how many
// inputs wait; above them, a finished job's last line, printed once.
// Thread-safety: Update and Error from any threads (the jobs' listener threads); one mutex.
class ProgressView {
 public:
  // `inputs`: each job's input, by slot.
  ProgressView(ProgressMode mode, std::vector<std::string> inputs);

  void Update(std::size_t slot, const ProgressEvent& event);
  void Error(std::string_view message);

 private:
  void EraseBars();  // REQUIRES: mutex_ held
  void DrawBars();   // REQUIRES: mutex_ held

  ProgressMode mode_;
  const bool color_;
  const std::vector<std::string> inputs_;
  std::mutex mutex_;
  // Guarded by mutex_:
  std::vector<std::optional<ProgressEvent>> latest_;  // by slot; nullopt: not started
  std::size_t drawn_ = 0;                             // lines on screen below the cursor
};

}  // namespace zcpipe::cli
