// A file in /tmp holding given bytes, removed when it goes out of scope.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace zcpipe::testing {

class TempFile {
 public:
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/zcpipe-test-XXXXXX";
    ::close(::mkstemp(name));
    path_ = name;
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { ::unlink(path_.c_str()); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zcpipe::testing
