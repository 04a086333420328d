// A little length-prefixed encoding for what crosses to workers besides handles (member set-up,
// stage replies). Private to zcpipe::pipeline.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace zcpipe::detail {

class WireWriter {
 public:
  void Put(std::uint64_t value) { out_.append(reinterpret_cast<const char*>(&value), 8); }
  void Put(std::string_view bytes) {
    Put(static_cast<std::uint64_t>(bytes.size()));
    out_.append(bytes);
  }
  [[nodiscard]] std::string& str() { return out_; }

 private:
  std::string out_;
};

// Reads what a WireWriter wrote; any read past the end makes ok() false (and returns zeros).
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  std::uint64_t U64() {
    std::uint64_t value = 0;
    if (in_.size() < 8) return ok_ = false, 0;
    std::memcpy(&value, in_.data(), 8);
    in_.remove_prefix(8);
    return value;
  }
  std::string_view Bytes() {
    const auto size = U64();
    if (!ok_ || size > in_.size()) return ok_ = false, std::string_view{};
    const auto bytes = in_.substr(0, size);
    in_.remove_prefix(size);
    return bytes;
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace zcpipe::detail
