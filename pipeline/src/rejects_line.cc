#include "rejects_line.h"

#include <openssl/evp.h>

#include <simdjson.h>

#include "zcpipe/stages/export.h"

namespace zcpipe::detail {
namespace {

// Appends `"name":"value"` to `out`, or `"name_base64":"..."` when `value` is not UTF-8.
void AppendText(std::string_view name, std::string_view value, std::string& out) {
  out += '"';
  out += name;
  if (simdjson::validate_utf8(value.data(), value.size())) {
    out += "\":";
    stages::AppendJsonString(value, out);
    return;
  }
  out += "_base64\":\"";
  const std::size_t at = out.size();
  out.resize(at + 4 * ((value.size() + 2) / 3) + 1);  // EVP_EncodeBlock adds a NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()));
  out.resize(at + static_cast<std::size_t>(written));
  out += '"';
}

}  // namespace

std::string RejectsLine(std::string_view file, const stages::InputError& row,
                        stages::RawEcho echo) {
  std::string line = "{";
  AppendText("file", file, line);
  line += ",\"line\":" + std::to_string(row.line) + ",\"byte\":" + std::to_string(row.byte_offset);
  line += ',';
  AppendText("reason", stages::Name(row.reason), line);
  line += ',';
  AppendText("column", row.column, line);
  line += ',';
  AppendText("detail", row.detail, line);
  if (echo == stages::RawEcho::kWithheld) {
    line += ",\"raw_redacted\":\"row\"";
  } else {
    line += ',';
    AppendText("raw", row.raw, line);
    if (echo == stages::RawEcho::kRewritten) line += ",\"raw_redacted\":\"fields\"";
  }
  line += "}\n";
  return line;
}

}  // namespace zcpipe::detail
