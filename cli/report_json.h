// The JSON lines zcpipe writes for programs that drive it: progress (--progress json, on
// stderr) and the end-of-run statistics (--stats json, on stdout). One object per line.
#pragma once

#include <string>
#include <string_view>

#include "zcpipe/pipeline/job.h"

namespace zcpipe::cli {

// {"job":1,"input":"a.csv","rows_in":...,"rows_out":...,"rows_rejected":...,"rows_filtered":...,
//  "bytes_in":...,"chunks":...,"bytes_total":...,"bytes_per_second":...,
//  "eta_seconds":... or null,"final":false}
[[nodiscard]] std::string ProgressJson(const ProgressEvent& event, std::string_view input);

// {"job":1,"input":"a.csv","status":"succeeded","rows_in":...,"rows_out":...,
//  "rows_rejected":...,"rows_filtered":...,"bytes_in":...,"chunks":...,
//  "bytes_copied_between_stages":...,"seconds":...,"arena_bytes":...,"arena_peak_bytes":...,
//  "stage_seconds":{"read":...,"parse":...,...},"worker_restarts":...,
//  "dialect":{"delimiter":"\t","delimiter_source":"sniffed","quote":"\"","quote_source":"default",
//  "escape":"\"","header":true,"header_source":"sniffed"} (CSV; null for JSON Lines; a quote of
//  "" is none; a source is "given", "sniffed" or "default"),"reused_resources":...,"resumable":...}
[[nodiscard]] std::string StatsJson(const Report& report, std::string_view input);

}  // namespace zcpipe::cli
