// Test helper: reads every value of a batch through its accessors, so that ASan sees every
// read a consumer could make of a batch that BatchView::Open accepted.
#pragma once

#include "zcpipe/stages/batch.h"

namespace zcpipe::testing {

inline void ReadAll(const stages::BatchView& view) {
  using stages::ColumnType;
  for (std::size_t c = 0; c < view.column_count(); ++c) {
    const auto column = view.column(c);
    for (std::uint32_t row = 0; row < view.row_count(); ++row) {
      (void)view.row_line(row);
      if (column.is_null(row)) continue;
      switch (column.type()) {
        case ColumnType::kInt64:
        case ColumnType::kTimestamp:
        case ColumnType::kDate:
        case ColumnType::kDateTime:
          (void)column.int64(row);
          break;
        case ColumnType::kFloat64:
          (void)column.float64(row);
          break;
        case ColumnType::kBool:
          (void)column.boolean(row);
          break;
        case ColumnType::kString:
          (void)column.string(row);
          break;
      }
    }
  }
}

}  // namespace zcpipe::testing
