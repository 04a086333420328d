// shm_leak_check start MARKER | check MARKER
//
// `start` records the time the test run began; `check` fails, listing them, if any zcpipe
// segment created since then is still in /dev/shm although its creator is gone: a leak.
// Segments of processes still running (another zcpipe on the machine) are not leaks.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "zcpipe/shm/segment.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 3) {
    std::cerr << "usage: shm_leak_check start|check MARKER\n";
    return 2;
  }
  const std::string mode = argv[1];
  const fs::path marker = argv[2];
  if (mode == "start") {
    std::ofstream(marker) << "zcpipe test run\n";
    return 0;
  }
  std::error_code error;
  const auto started = fs::last_write_time(marker, error);
  if (error) {
    std::cerr << "shm_leak_check: no start marker " << marker << '\n';
    return 2;
  }
  int leaks = 0;
  for (const auto& name : zcpipe::shm::Sweep(/*dry_run=*/true).removed) {
    const auto created = fs::last_write_time(fs::path("/dev/shm") / name, error);
    if (!error && created >= started) {
      std::cerr << "leaked shared-memory segment: /dev/shm/" << name << '\n';
      ++leaks;
    }
  }
  std::cout << (leaks == 0 ? "no leaked segments\n" : "");
  return leaks == 0 ? 0 : 1;
}
