// Moving single values between batches, the row engine and text.
#pragma once

#include <cstdint>
#include <string>

#include "transform/transform_plan.h"
#include "zcpipe/stages/batch.h"

namespace zcpipe::stages::detail {

// Row `row` of `column`, whose type is `type`, into `out`. Strings point into the batch.
// An out parameter, not a returned Value: the caller's copy of a returned Value read it back
// with wider loads than the stores that wrote it, a store-forwarding stall that took two thirds
// of RunPlan's time.
void ReadValue(const ColumnView& column, ColumnType type, std::uint32_t row, Value& out);
// Appends `value` to `column` (of type `type`).
void AppendValue(ColumnBuffer& column, ColumnType type, const Value& value);
// Appends the text form of a non-null `value` to `out`: int64 decimal, float64 shortest
// round-trip, bool true/false, a temporal type ISO 8601 (FormatTemporal), a string as is.
void FormatValue(ColumnType type, const Value& value, std::string& out);

}  // namespace zcpipe::stages::detail
