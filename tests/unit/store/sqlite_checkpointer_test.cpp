// The WAL checkpointer: commits wake a thread that checkpoints on its own connection; the log is
// restarted once a checkpoint has copied it; a reader holding part of the log blocks no commit;
// past the hard limit a commit checkpoints inline, so the log stays bounded.
#include "store/sqlite_checkpointer.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <thread>

namespace apigw::store::detail {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

class sqlite_checkpointer_test : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = open();
    ASSERT_EQ(exec(writer_, "PRAGMA journal_mode = WAL"), SQLITE_OK);
    ASSERT_EQ(exec(writer_, "PRAGMA synchronous = NORMAL"), SQLITE_OK);
    ASSERT_EQ(exec(writer_, "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)"), SQLITE_OK);
  }
  void TearDown() override { sqlite3_close_v2(writer_); }

  sqlite3* open() const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
  }

  static int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

  // commit_row: one transaction adding a row of about one page.
  int commit_row() const { return exec(writer_, "INSERT INTO t (payload) VALUES (randomblob(3000))"); }

  // commit_until: commits rows until `done` holds (checked after each commit), for at most 10 s;
  // whether it held.
  template <class Pred>
  bool commit_until(Pred done) const {
    const auto end = steady::now() + 10s;
    while (steady::now() < end) {
      if (commit_row() != SQLITE_OK) return false;
      if (done()) return true;
    }
    return false;
  }

  // wait_until: polls `done` for at most 10 s without writing; whether it held.
  template <class Pred>
  static bool wait_until(Pred done) {
    const auto end = steady::now() + 10s;
    while (!done()) {
      if (steady::now() > end) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  testing::temp_dir dir_{"apigw-ckpt-"};
  std::string path_ = dir_.file("apigw.db");
  sqlite3* writer_ = nullptr;
};

TEST_F(sqlite_checkpointer_test, commits_are_checkpointed_by_the_thread) {
  auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 300, .hard_limit = 1000000});
  ASSERT_TRUE(c) << c.error().message;
  auto& ckpt = **c;
  // Commits until one takes the log past the threshold: none of them checkpointed (the log kept
  // every frame), the last one woke the thread.
  ASSERT_TRUE(commit_until([&] { return ckpt.stats().last_log >= 300; }));
  const int frames = ckpt.stats().last_log;
  EXPECT_EQ(ckpt.stats().wakes, 1U);
  // With the writer quiet, the thread copies the whole log...
  ASSERT_TRUE(wait_until([&] { return ckpt.stats().complete >= 1; }));
  EXPECT_EQ(ckpt.stats().copied_through, frames);
  // ...and the next commit starts it again from the top.
  ASSERT_EQ(commit_row(), SQLITE_OK);
  EXPECT_LT(ckpt.stats().last_log, 5);
  EXPECT_EQ(ckpt.stats().inline_runs, 0U);
}

TEST_F(sqlite_checkpointer_test, the_thread_wakes_once_per_threshold_of_growth) {
  // A reader holding the log keeps it from starting again, so it only grows.
  sqlite3* reader = open();
  ASSERT_EQ(exec(reader, "BEGIN"), SQLITE_OK);
  ASSERT_EQ(exec(reader, "SELECT count(*) FROM t"), SQLITE_OK);
  auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 50, .hard_limit = 1000000});
  ASSERT_TRUE(c) << c.error().message;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(commit_row(), SQLITE_OK);
  const int frames = (*c)->stats().last_log;
  ASSERT_GE(frames, 100);
  // Woken each time the log grew by 50 pages (a commit adds a few, so each wake lands a little
  // past its mark), not by every commit past the first 50.
  EXPECT_LE((*c)->stats().wakes, static_cast<std::uint64_t>(frames / 50));
  EXPECT_GE((*c)->stats().wakes, static_cast<std::uint64_t>(frames / 60));
  ASSERT_EQ(exec(reader, "COMMIT"), SQLITE_OK);
  sqlite3_close_v2(reader);
}

TEST_F(sqlite_checkpointer_test, below_the_threshold_nothing_wakes_the_thread) {
  auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 1000, .hard_limit = 1000000});
  ASSERT_TRUE(c) << c.error().message;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(commit_row(), SQLITE_OK);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ((*c)->stats().background, 0U);
  EXPECT_EQ((*c)->stats().inline_runs, 0U);
  // Without SQLite's automatic checkpoint the log keeps every commit until the threshold.
  EXPECT_GE((*c)->stats().last_log, 50);
}

TEST_F(sqlite_checkpointer_test, a_reader_holding_the_log_blocks_no_commit) {
  ASSERT_EQ(commit_row(), SQLITE_OK);
  sqlite3* reader = open();
  ASSERT_EQ(exec(reader, "BEGIN"), SQLITE_OK);
  ASSERT_EQ(exec(reader, "SELECT count(*) FROM t"), SQLITE_OK);  // holds its snapshot of the log
  auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 1, .hard_limit = 1000000});
  ASSERT_TRUE(c) << c.error().message;
  auto& ckpt = **c;
  for (int i = 0; i < 200; ++i) ASSERT_EQ(commit_row(), SQLITE_OK);
  ASSERT_TRUE(wait_until([&] { return ckpt.stats().background >= 1; }));
  EXPECT_EQ(ckpt.stats().complete, 0U);  // the reader's part could not be copied
  ASSERT_EQ(commit_row(), SQLITE_OK);
  EXPECT_GE(ckpt.stats().last_log, 200);  // so the log did not start again
  ASSERT_EQ(exec(reader, "COMMIT"), SQLITE_OK);
  sqlite3_close_v2(reader);
  ASSERT_EQ(commit_row(), SQLITE_OK);  // wakes the thread again
  const int frames = ckpt.stats().last_log;
  ASSERT_TRUE(wait_until([&] { return ckpt.stats().copied_through == frames; }));
  ASSERT_EQ(commit_row(), SQLITE_OK);
  EXPECT_LT(ckpt.stats().last_log, 5);
}

TEST_F(sqlite_checkpointer_test, past_the_hard_limit_a_commit_checkpoints_inline) {
  // A threshold no commit reaches stands for a thread that never gets to run.
  auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 1000000, .hard_limit = 30});
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(commit_until([&] { return (*c)->stats().inline_runs >= 1; }));
  EXPECT_EQ((*c)->stats().background, 0U);
  ASSERT_TRUE(commit_until([&] { return (*c)->stats().last_log < 5; }));
  EXPECT_LE((*c)->stats().largest_log, 31);
}

TEST_F(sqlite_checkpointer_test, stops_cleanly_with_a_wake_pending_and_unhooks_the_writer) {
  {
    auto c = sqlite_checkpointer::start(writer_, path_, 5000ms, {.threshold = 1, .hard_limit = 1000000});
    ASSERT_TRUE(c) << c.error().message;
    for (int i = 0; i < 20; ++i) ASSERT_EQ(commit_row(), SQLITE_OK);
  }
  // The hook is gone with the checkpointer: commits still work (nothing calls into freed memory).
  for (int i = 0; i < 20; ++i) EXPECT_EQ(commit_row(), SQLITE_OK);
}

TEST_F(sqlite_checkpointer_test, a_missing_file_is_a_clear_failure) {
  auto c = sqlite_checkpointer::start(writer_, dir_.file("nowhere/x.db"), 100ms);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("cannot open"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace apigw::store::detail
