// The SQLite driver.
//
// Why one connection: SQLite allows one writer at a time per database anyway, and one connection
// keeps the statement cache and the transaction state simple. WAL lets other processes (the CLI,
// a second backend) read while we write. A writer that cannot get the lock within the busy timeout
// fails with store::error::busy ("database is locked") and its transaction is rolled back, so
// nothing is half-written.
#include "store/sqlite_database.hpp"

#include "apigw/store/error.hpp"
#include "store/sqlite_checkpointer.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <string_view>
#include <unordered_map>

namespace apigw::store::detail {
namespace {

class sqlite_connection final : public connection {
 public:
  sqlite_connection(sqlite3* db, std::string path, std::chrono::milliseconds busy_timeout) noexcept
      : db_(db), path_(std::move(path)), busy_timeout_(busy_timeout) {}
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;
  ~sqlite_connection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  result<rows> exec(std::string_view sql, std::span<const param> params) override {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc =
          sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return fail(rc);
      it = cache_.emplace(std::string{sql}, stmt).first;
    }
    return step_all(it->second, params);
  }

  result<rows> run(std::string_view sql, std::span<const param> params) override {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return fail(rc);
    auto r = step_all(stmt, params);
    sqlite3_finalize(stmt);
    return r;
  }

  // IMMEDIATE: take the write lock now (waiting up to the busy timeout), so a transaction never
  // fails halfway because another connection got there first.
  result<void> begin() override {
    auto r = run("BEGIN IMMEDIATE", {});
    if (!r) return r.error();
    return ok();
  }

  sqlite3* handle() const noexcept { return db_; }

  // fail: the failure for SQLite result code `rc`, with the connection's message.
  failure fail(int rc) const {
    const std::string detail = sqlite3_errmsg(db_);
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return {error::busy, fmt::format("database is locked: {} (another connection held the write lock for "
                                         "longer than the {} ms busy timeout; the operation was not applied)",
                                         path_, busy_timeout_.count())};
      case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
          return {error::duplicate_key, fmt::format("{}: {}", path_, detail)};
        }
        return {error::constraint_violation, fmt::format("{}: {}", path_, detail)};
      case SQLITE_ERROR:
        if (detail.starts_with("no such table")) {
          return {error::schema_missing,
                  fmt::format("database schema is missing in {} ({}); run `apigw-ws migrate`", path_, detail)};
        }
        break;
      default:
        break;
    }
    return {error::database_error, fmt::format("SQLite error on {}: {} ({})", path_, detail, sqlite3_errstr(rc))};
  }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  // step_all: binds `params` to $1, $2... and steps `stmt` to the end, collecting rows. The
  // statement is always reset, so it holds no read lock once this returns.
  result<rows> step_all(sqlite3_stmt* stmt, std::span<const param> params) {
    struct reset_guard {
      sqlite3_stmt* s;
      ~reset_guard() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } guard{stmt};

    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto name = fmt::format("${}", i + 1);
      const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) continue;  // the statement does not use this parameter
      int rc = SQLITE_OK;
      const auto& p = params[i];
      if (std::holds_alternative<std::nullptr_t>(p)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* b = std::get_if<bool>(&p)) {
        rc = sqlite3_bind_int(stmt, index, *b ? 1 : 0);
      } else {
        const auto& s = std::get<std::string>(p);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return fail(rc);
    }

    rows out;
    out.columns = static_cast<std::size_t>(sqlite3_column_count(stmt));
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fail(sqlite3_extended_errcode(db_));
      for (int c = 0; c < static_cast<int>(out.columns); ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          out.cells.emplace_back();
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          out.cells.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
    if (sqlite3_stmt_readonly(stmt) == 0) out.affected = sqlite3_changes64(db_);
    return out;
  }

  sqlite3* db_;
  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  std::unordered_map<std::string, sqlite3_stmt*, string_hash, std::equal_to<>> cache_;
};

class sqlite_database final : public database {
 public:
  sqlite_database(sqlite3* db, std::string path, std::chrono::milliseconds busy_timeout)
      : path_(path), connection_(db, std::move(path), busy_timeout) {}

  dialect kind() const noexcept override { return dialect::sqlite; }
  const std::string& location() const noexcept override { return path_; }

  result<lease> acquire() override {
    mutex_.lock();
    return lease(*this, connection_);
  }

  // checkpoint_off_path: WAL checkpoints from now on run on a thread of their own.
  result<void> checkpoint_off_path(std::chrono::milliseconds busy_timeout) {
    std::lock_guard lock(mutex_);
    auto c = sqlite_checkpointer::start(connection_.handle(), path_, busy_timeout);
    if (!c) return c.error();
    checkpointer_ = std::move(*c);
    return ok();
  }

 protected:
  void release(connection&) noexcept override { mutex_.unlock(); }

 private:
  std::string path_;
  std::mutex mutex_;
  sqlite_connection connection_;
  std::unique_ptr<sqlite_checkpointer> checkpointer_;  // declared last: stopped before the connection closes
};

}  // namespace

result<std::unique_ptr<database>> open_sqlite(const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return failure{error::database_error, fmt::format("cannot open SQLite database {}: {}", path, detail)};
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  auto store = std::make_unique<sqlite_database>(db, path, busy_timeout);
  std::string journal;
  {
    auto lease = store->acquire();
    auto& c = **lease;
    // WAL: readers never block the writer and the writer never blocks readers. NORMAL sync is safe
    // in WAL mode (a power cut may lose the last commits, never corrupt the file).
    auto mode = c.run("PRAGMA journal_mode = WAL", {});
    if (!mode) return mode.error();
    journal = mode->empty() ? std::string{} : cell_text(*mode, 0, 0);
    if (journal != "wal" && journal != "memory") {
      return failure{error::database_error,
                     fmt::format("cannot switch SQLite database {} to WAL mode (journal mode is '{}')", path, journal)};
    }
    for (const std::string_view pragma : {"PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"}) {
      if (auto r = c.run(pragma, {}); !r) return r.error();
    }
  }
  if (journal == "wal") {
    if (auto r = store->checkpoint_off_path(busy_timeout); !r) return r.error();
  }
  return std::unique_ptr<database>{std::move(store)};
}

}  // namespace apigw::store::detail
