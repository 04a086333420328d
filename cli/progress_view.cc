#include "progress_view.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "diagnostics.h"
#include "report_json.h"

namespace zcpipe::cli {
namespace {

constexpr int kBarWidth = 24;

std::string Format(const char* format, double value) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, format, value);
  return {buffer, static_cast<std::size_t>(n)};
}

std::string Mebibytes(std::uint64_t bytes) {
  return Format("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string BarLine(std::string_view input, const ProgressEvent& event, bool color) {
  std::string line(input);
  line += "  ";
  const double done = event.final             ? 1.0
                      : event.bytes_total > 0 ? static_cast<double>(event.bytes_in) /
                                                    static_cast<double>(event.bytes_total)
                                              : 0.0;
  const int filled = static_cast<int>(done * kBarWidth);
  line += color ? "[\x1b[32m" : "[";
  line += std::string(static_cast<std::size_t>(filled), '#');
  line += color ? "\x1b[0m" : "";
  line += std::string(static_cast<std::size_t>(kBarWidth - filled), '.');
  line += "] " + Format("%3.0f%%", done * 100) + "  " + Mebibytes(event.bytes_in) + " / " +
          Mebibytes(event.bytes_total) + "  " + std::to_string(event.rows_in) + " rows  " +
          Format("%.1f MB/s", event.bytes_per_second / 1e6);
  if (event.final) return line + "  done";
  if (event.eta_seconds) line += "  ETA " + Format("%.0fs", *event.eta_seconds);
  return line;
}

}  // namespace

ProgressView::ProgressView(ProgressMode mode, std::vector<std::string> inputs)
    : mode_(mode),
      color_(ColorOn(STDERR_FILENO)),
      inputs_(std::move(inputs)),
      latest_(inputs_.size()) {
  if (mode_ == ProgressMode::kAuto) {
    mode_ = ::isatty(STDERR_FILENO) == 1 ? ProgressMode::kBar : ProgressMode::kNone;
  }
}

void ProgressView::Update(std::size_t slot, const ProgressEvent& event) {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kJson) {
    std::cerr << ProgressJson(event, inputs_[slot]) << std::endl;
  } else if (mode_ == ProgressMode::kBar) {
    EraseBars();
    latest_[slot] = event;
    if (event.final) {  // printed once, above the bars: finished jobs scroll up, out of the way
      std::cerr << BarLine(inputs_[slot], event, color_) << '\n';
    }
    DrawBars();
  }
}

void ProgressView::Error(std::string_view message) {
  std::lock_guard lock(mutex_);
  EraseBars();
  std::cerr << ErrorLine(message, color_);
  DrawBars();
}

void ProgressView::EraseBars() {
  if (drawn_ > 0) std::cerr << "\x1b[" << drawn_ << "A\r\x1b[J";  // up, clear to the end
  drawn_ = 0;
}

void ProgressView::DrawBars() {
  if (mode_ != ProgressMode::kBar) {
    std::cerr << std::flush;
    return;
  }
  std::size_t waiting = 0;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!latest_[i]) {
      ++waiting;
    } else if (!latest_[i]->final) {
      std::cerr << BarLine(inputs_[i], *latest_[i], color_) << '\n';
      ++drawn_;
    }
  }
  if (waiting > 0) {
    std::cerr << waiting << " more waiting\n";
    ++drawn_;
  }
  std::cerr << std::flush;
}

}  // namespace zcpipe::cli
