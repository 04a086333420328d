// What the first records of a CSV input say: their decoded values and the types that keep
// them. Shared by the parser (schema inference) and the sniffer (header detection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcpipe/stages/schema.h"

namespace zcpipe::stages::detail {

// A number written with a decimal comma ("2,5") as from_chars reads it ("2.5", in `scratch`);
// nullopt for one with a '.', which such a file does not write as a decimal point.
std::optional<std::string_view> DecimalPoint(std::string_view value, std::string& scratch);

// The types that keep `value` (type_inference.h); with `decimal_comma`, float64 as DecimalPoint
// reads it.
std::uint8_t TypesKeeping(std::string_view value, bool decimal_comma, std::string& scratch);

// The most specific type that keeps every non-empty value in `values` (type_inference.h).
ColumnType InferType(const std::vector<std::string>& values, bool decimal_comma);

// The decoded values of the first `max_records` records of `text` (header included, if any):
// rows x fields. A malformed field keeps its raw text (the parser rejects its row).
std::vector<std::vector<std::string>> FirstRecords(std::string_view text, char delimiter,
                                                   char quote, std::size_t max_records);

}  // namespace zcpipe::stages::detail
