// WAL checkpoints on a thread of their own (see sqlite_checkpointer.hpp).
#include "store/sqlite_checkpointer.hpp"

#include "apigw/store/error.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace apigw::store::detail {

result<std::unique_ptr<sqlite_checkpointer>> sqlite_checkpointer::start(sqlite3* writer, const std::string& path,
                                                                        std::chrono::milliseconds busy_timeout,
                                                                        checkpoint_options options) {
  sqlite3* own = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = own != nullptr ? sqlite3_errmsg(own) : sqlite3_errstr(rc);
    sqlite3_close_v2(own);
    return failure{error::database_error, fmt::format("cannot open {} for checkpoints: {}", path, why)};
  }
  sqlite3_busy_timeout(own, static_cast<int>(busy_timeout.count()));
  // A connection sees the log only once it has read the database: until then a checkpoint on it
  // does nothing (and says the database is not in WAL mode).
  if (const int read = sqlite3_exec(own, "PRAGMA schema_version", nullptr, nullptr, nullptr); read != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(own);
    sqlite3_close_v2(own);
    return failure{error::database_error, fmt::format("cannot read {} for checkpoints: {}", path, why)};
  }
  // The thread's own commits are none, but its connection must not checkpoint on close either:
  // the writer's connection, closed last, does the final one.
  sqlite3_wal_autocheckpoint(own, 0);
  return std::unique_ptr<sqlite_checkpointer>(new sqlite_checkpointer(writer, own, options));
}

sqlite_checkpointer::sqlite_checkpointer(sqlite3* writer, sqlite3* own, checkpoint_options options)
    : writer_(writer), own_(own), options_(options), next_wake_(options.threshold) {
  thread_ = std::thread([this] { run(); });
  // Replaces SQLite's automatic checkpoint, which is itself a commit hook.
  sqlite3_wal_hook(writer_, &sqlite_checkpointer::on_commit, this);
}

sqlite_checkpointer::~sqlite_checkpointer() {
  sqlite3_wal_autocheckpoint(writer_, 1000);  // SQLite's own hook and default again
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close_v2(own_);
}

checkpoint_stats sqlite_checkpointer::stats() const {
  checkpoint_stats s;
  s.wakes = wakes_.load();
  s.background = background_.load();
  s.complete = complete_.load();
  s.copied_through = copied_through_.load();
  s.inline_runs = inline_runs_.load();
  s.largest_log = largest_log_.load();
  s.last_log = last_log_.load();
  return s;
}

// on_commit: runs on the writer's thread (under its owner's lock) after each commit, with the
// log's size in pages. The thread is woken each time the log has grown by another `threshold`
// pages: each run copies the pages changed since the last one, once each however often they
// changed, so waking it more often would only copy the same hot pages again.
int sqlite_checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& me = *static_cast<sqlite_checkpointer*>(self);
  const int previous = me.last_log_.exchange(pages, std::memory_order_relaxed);
  if (pages < previous) me.next_wake_ = me.options_.threshold;  // the log started again
  int seen = me.largest_log_.load(std::memory_order_relaxed);
  while (pages > seen && !me.largest_log_.compare_exchange_weak(seen, pages, std::memory_order_relaxed)) {
  }
  if (pages >= me.options_.hard_limit) {
    me.inline_runs_.fetch_add(1, std::memory_order_relaxed);
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= me.next_wake_) {
    me.next_wake_ = pages + me.options_.threshold;
    me.wakes_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(me.mu_);
      me.due_ = true;
    }
    me.wake_.notify_one();
  }
  return SQLITE_OK;
}

void sqlite_checkpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) return;
    due_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs and never waits for a lock; a busy or partial
    // result is simply retried when the log passes the threshold again.
    int log = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && copied == log) {
      copied_through_.store(log, std::memory_order_relaxed);
      complete_.fetch_add(1, std::memory_order_relaxed);
    }
    background_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    // A reader still holds part of the log: give it time rather than run again on every commit.
    if (copied < log) wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
  }
}

}  // namespace apigw::store::detail
