#include "report_json.h"

#include <cstdio>

#include "zcpipe/stages/export.h"

namespace zcpipe::cli {
namespace {

// Appends `"name":` to `out`, after a comma unless it opens the object.
void Key(std::string_view name, std::string& out) {
  if (out.back() != '{') out += ',';
  stages::AppendJsonString(name, out);
  out += ':';
}

void Field(std::string_view name, std::uint64_t value, std::string& out) {
  Key(name, out);
  out += std::to_string(value);
}

void Field(std::string_view name, double value, std::string& out) {
  Key(name, out);
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.6g", value);
  out.append(buffer, static_cast<std::size_t>(n));
}

void Field(std::string_view name, std::string_view value, std::string& out) {
  Key(name, out);
  stages::AppendJsonString(value, out);
}

// The fields both kinds of line start with.
std::string Open(const ProgressEvent& event, std::string_view input) {
  std::string out = "{";
  Field("job", event.job, out);
  Field("input", input, out);
  return out;
}

void Counts(const ProgressEvent& event, std::string& out) {
  Field("rows_in", event.rows_in, out);
  Field("rows_out", event.rows_out, out);
  Field("rows_rejected", event.rows_rejected, out);
  Field("rows_filtered", event.rows_filtered, out);
  Field("bytes_in", event.bytes_in, out);
  Field("chunks", event.chunks_done, out);
}

}  // namespace

std::string ProgressJson(const ProgressEvent& event, std::string_view input) {
  std::string out = Open(event, input);
  Counts(event, out);
  Field("bytes_total", event.bytes_total, out);
  Field("bytes_per_second", event.bytes_per_second, out);
  if (event.eta_seconds) {
    Field("eta_seconds", *event.eta_seconds, out);
  } else {
    Key("eta_seconds", out);
    out += "null";
  }
  Key("final", out);
  out += event.final ? "true}" : "false}";
  return out;
}

std::string StatsJson(const Report& report, std::string_view input) {
  std::string out = Open(report.totals, input);
  Field("status", Name(report.status), out);
  Field("encoding", stages::Name(report.encoding), out);
  Counts(report.totals, out);
  Field("bytes_copied_between_stages", report.bytes_copied_between_stages, out);
  Field("seconds", report.totals.elapsed_seconds, out);
  Field("arena_bytes", report.arena_bytes, out);
  Field("arena_peak_bytes", report.arena_peak_bytes, out);
  Key("stage_seconds", out);
  out += '{';
  for (std::size_t i = 0; i < kStageCount; ++i) {
    Field(Name(static_cast<Stage>(i)), report.totals.stages[i].busy_seconds, out);
  }
  out += '}';
  Field("worker_restarts", report.worker_restarts, out);
  Key("dialect", out);
  if (const auto& dialect = report.dialect) {
    const auto text = [](char c) { return c == '\0' ? std::string() : std::string(1, c); };
    out += '{';
    Field("delimiter", text(dialect->delimiter), out);
    Field("delimiter_source", stages::Name(dialect->delimiter_source), out);
    Field("quote", text(dialect->quote), out);
    Field("quote_source", stages::Name(dialect->quote_source), out);
    Field("escape", text(dialect->escape), out);
    Key("header", out);
    out += dialect->header ? "true" : "false";
    Field("header_source", stages::Name(dialect->header_source), out);
    out += '}';
  } else {
    out += "null";
  }
  Key("reused_resources", out);
  out += report.reused_resources ? "true" : "false";
  Key("resumable", out);
  out += report.resumable ? "true}" : "false}";
  return out;
}

}  // namespace zcpipe::cli
