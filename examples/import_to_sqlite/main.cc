// import_to_sqlite: a callback sink that inserts each record batch into SQLite, one
// transaction per batch, then re-counts the rows with SELECT COUNT(*).
// Usage: import_to_sqlite [rows, default 100000]. Exits non-zero if any count is wrong.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "zcpipe/pipeline/job.h"
#include "zcpipe/stages/batch.h"

namespace fs = std::filesystem;
namespace zs = zcpipe::stages;

namespace {

// One SQLite connection and its prepared INSERT; each Insert is one transaction. Throws
// std::runtime_error with SQLite's message (the job then fails with a stage error).
class OrdersTable {
 public:
  explicit OrdersTable(const fs::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Fail("open");
    Exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)");
    if (sqlite3_prepare_v2(db_, "INSERT INTO orders VALUES (?1, ?2, ?3)", -1, &insert_, nullptr) !=
        SQLITE_OK) {
      Fail("prepare");
    }
  }
  OrdersTable(const OrdersTable&) = delete;
  OrdersTable& operator=(const OrdersTable&) = delete;
  ~OrdersTable() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }

  // Columns by position: id:int64, customer:string, amount:float64.
  void Insert(const zs::BatchView& batch) {
    Exec("BEGIN");
    const auto id = batch.column(0), customer = batch.column(1), amount = batch.column(2);
    for (std::uint32_t row = 0; row < batch.row_count(); ++row) {
      sqlite3_bind_int64(insert_, 1, id.int64(row));
      const auto name = customer.string(row);
      sqlite3_bind_text(insert_, 2, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
      if (amount.is_null(row)) {
        sqlite3_bind_null(insert_, 3);
      } else {
        sqlite3_bind_double(insert_, 3, amount.float64(row));
      }
      if (sqlite3_step(insert_) != SQLITE_DONE) Fail("insert");
      sqlite3_reset(insert_);
    }
    Exec("COMMIT");
  }

  std::int64_t Count() {
    sqlite3_stmt* count = nullptr;
    sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM orders", -1, &count, nullptr);
    const std::int64_t rows =
        sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int64(count, 0) : -1;
    sqlite3_finalize(count);
    return rows;
  }

 private:
  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }
  [[noreturn]] void Fail(const std::string& what) {
    throw std::runtime_error("sqlite " + what + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 100000;
  const fs::path dir = fs::temp_directory_path() / ("zcpipe-sqlite-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "orders.csv", std::ios::binary);
    out << "id,customer,amount\n";
    for (int i = 0; i < rows; ++i) out << i << ",customer-" << i % 977 << ',' << i % 500 << ".25\n";
  }

  OrdersTable table(dir / "orders.db");
  zcpipe::JobConfig job;
  job.input = dir / "orders.csv";
  job.schema = zs::Schema::Parse("id:int64,customer,amount:float64");
  job.chunk_size = 256 << 10;
  job.arena_size = 16 << 20;
  job.batch_sink = [&table](const zs::BatchView& batch) { table.Insert(batch); };  // in order
  job.on_error_event = [](const zcpipe::ErrorEvent& e) {
    std::fprintf(stderr, "import_to_sqlite: %s\n", e.message.c_str());
  };
  const zcpipe::Report report = zcpipe::Run(std::move(job));
  const std::int64_t counted = table.Count();
  fs::remove_all(dir);

  std::printf("import_to_sqlite: %s, %llu rows imported, SELECT COUNT(*) = %lld\n",
              zcpipe::Name(report.status), static_cast<unsigned long long>(report.totals.rows_out),
              static_cast<long long>(counted));
  const bool ok = report.status == zcpipe::JobStatus::kSucceeded &&
                  report.totals.rows_out == static_cast<std::uint64_t>(rows) && counted == rows;
  if (!ok) std::fprintf(stderr, "import_to_sqlite: FAILED: counts differ\n");
  return ok ? 0 : 1;
}
