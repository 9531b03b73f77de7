// store/sqlite_checkpointer.hpp (private): WAL checkpoints off the writers' path.
//
// By default SQLite checkpoints inside the commit that takes the write-ahead log past 1000 pages:
// that commit copies the log back into the database file and waits for two fsyncs, while the
// store's one connection (and so every request behind it) waits too. On the 2-core machine that
// is 5-15 ms every few hundred writes, and it was most of the backend's p99 (docs/design/store.md).
//
// The checkpointer takes that work to a thread and a connection of its own. The writer's
// connection gets a commit hook instead of the automatic checkpoint: each time the log has grown by
// `threshold` pages the hook only wakes the thread, which runs a PASSIVE checkpoint (it never
// blocks a writer or a reader; what a reader still uses is copied by a later run).
//
// The log can only start again from the top when a writer begins while every frame of it has been
// copied, and under a steady stream of commits a checkpoint on another thread never quite catches
// up. So the commit that takes the log to `hard_limit` pages checkpoints inline, as SQLite would
// have: by then the thread has copied nearly all of it, so that commit copies only the last few
// frames (and waits for the two fsyncs), and the log restarts. One short stall per `hard_limit`
// pages instead of a full checkpoint per `threshold` pages; the log stays bounded either way.
#pragma once

#include "apigw/core/error.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace apigw::store::detail {

struct checkpoint_options {
  int threshold = 1000;    // pages in the log that wake the thread (SQLite's own default)
  int hard_limit = 10000;  // pages at which a commit checkpoints inline (about 40 MiB of 4 KiB pages)
};

struct checkpoint_stats {
  std::uint64_t wakes = 0;        // times a commit woke the thread
  std::uint64_t background = 0;   // checkpoints run by the thread
  std::uint64_t complete = 0;     // of those, the ones that copied the whole log
  int copied_through = 0;         // the log's size at the latest of those
  std::uint64_t inline_runs = 0;  // checkpoints a commit had to run itself (hard_limit)
  int largest_log = 0;            // the most pages the log held after a commit
  int last_log = 0;               // the pages it held after the latest commit
};

class sqlite_checkpointer {
 public:
  // start: hooks `writer` (a connection in WAL mode on `path`, used under its owner's lock) and
  // starts the thread with a connection of its own; fails when that connection cannot be opened.
  static result<std::unique_ptr<sqlite_checkpointer>> start(sqlite3* writer, const std::string& path,
                                                            std::chrono::milliseconds busy_timeout,
                                                            checkpoint_options options = {});
  // Stops and joins the thread, closes its connection and unhooks the writer.
  ~sqlite_checkpointer();
  sqlite_checkpointer(const sqlite_checkpointer&) = delete;
  sqlite_checkpointer& operator=(const sqlite_checkpointer&) = delete;

  checkpoint_stats stats() const;

 private:
  sqlite_checkpointer(sqlite3* writer, sqlite3* own, checkpoint_options options);
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  sqlite3* writer_;
  sqlite3* own_;
  checkpoint_options options_;
  int next_wake_;  // writer only: the log size that wakes the thread next
  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;   // guarded: the log passed the threshold since the last run
  bool stop_ = false;  // guarded
  std::atomic<std::uint64_t> wakes_{0};
  std::atomic<std::uint64_t> background_{0};
  std::atomic<std::uint64_t> complete_{0};
  std::atomic<int> copied_through_{0};
  std::atomic<std::uint64_t> inline_runs_{0};
  std::atomic<int> largest_log_{0};
  std::atomic<int> last_log_{0};
  std::thread thread_;
};

}  // namespace apigw::store::detail
