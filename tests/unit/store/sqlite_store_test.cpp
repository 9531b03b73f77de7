// SQLite-only behaviour: a database locked by another connection gives a clear "database is
// locked" failure after the busy timeout, and nothing is lost on either side.
#include "apigw/store/session_store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>

namespace apigw::store {
namespace {

using namespace std::chrono_literals;

class sqlite_store_test : public ::testing::Test {
 protected:
  testing::temp_dir dir_{"apigw-sqlite-"};
  std::string path_ = dir_.file("apigw.db");
  manual_clock clock_;
};

// exec: runs SQL on a raw connection, returning SQLite's result code.
int exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

TEST_F(sqlite_store_test, locked_database_fails_clearly_and_loses_nothing) {
  store_options options;
  options.busy_timeout = 100ms;
  auto opened = open_store(path_, clock_, options);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  ASSERT_TRUE(store.migrate());
  const std::vector<std::string> channels{"general"};
  ASSERT_TRUE(store.create_session("AAAAAAAAAAAAAAA=", 1, std::nullopt, channels));

  // Another process holds the write lock, with a row of its own not yet committed.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(exec(other, "BEGIN EXCLUSIVE"), SQLITE_OK);
  ASSERT_EQ(exec(other,
                 "INSERT INTO websocket_sessions (connection_id, connected, request_count, created_at, updated_at, "
                 "last_seen_at) VALUES ('OTHEROTHEROTHER=', 1, 1, 0, 0, 0)"),
            SQLITE_OK);

  auto created = store.create_session("BBBBBBBBBBBBBBB=", 2, std::nullopt, channels);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), error::busy);
  EXPECT_EQ(created.error(), condition::unavailable);
  EXPECT_NE(created.error().message.find("database is locked"), std::string::npos) << created.error().message;
  EXPECT_NE(created.error().message.find(path_), std::string::npos) << created.error().message;

  const std::vector<std::string> ids{"AAAAAAAAAAAAAAA="};
  EXPECT_EQ(store.mark_disconnected(ids).error(), error::busy);
  EXPECT_EQ(store.touch("AAAAAAAAAAAAAAA=").error(), error::busy);
  EXPECT_EQ(store.join_channel("AAAAAAAAAAAAAAA=", "more").error(), error::busy);
  // WAL: readers are not blocked by the writer.
  auto read = store.find_session("AAAAAAAAAAAAAAA=");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->connected);

  ASSERT_EQ(exec(other, "COMMIT"), SQLITE_OK);
  sqlite3_close(other);

  // Nothing half-written by the failed calls; the other writer's row is there; retrying works.
  auto a = store.find_session("AAAAAAAAAAAAAAA=");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->connected);
  EXPECT_EQ(a->request_count, 1);
  EXPECT_EQ(*store.channels_of("AAAAAAAAAAAAAAA="), channels);
  EXPECT_EQ(store.find_session("BBBBBBBBBBBBBBB=").error(), condition::not_found);
  EXPECT_TRUE(store.find_session("OTHEROTHEROTHER="));
  auto retried = store.create_session("BBBBBBBBBBBBBBB=", 2, std::nullopt, channels);
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(*store.count(session_query{}.in_channel("general")), 2);
}

TEST_F(sqlite_store_test, uses_wal_and_foreign_keys) {
  auto opened = open_store(path_, clock_);
  ASSERT_TRUE(opened);
  ASSERT_TRUE((*opened)->migrate());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_F(sqlite_store_test, accepts_every_sqlite_url_form) {
  for (const auto& url : {path_, "sqlite:" + path_, "sqlite://" + path_}) {
    auto opened = open_store(url, clock_);
    ASSERT_TRUE(opened) << url << ": " << opened.error().message;
    EXPECT_EQ((*opened)->kind(), backend::sqlite);
    EXPECT_EQ((*opened)->location(), path_);
  }
  auto memory = open_store("sqlite::memory:", clock_);
  ASSERT_TRUE(memory) << memory.error().message;
  ASSERT_TRUE((*memory)->migrate());
  EXPECT_TRUE((*memory)->create_session("AAAAAAAAAAAAAAA=", std::nullopt, std::nullopt));
}

TEST_F(sqlite_store_test, unopenable_file_names_the_path) {
  const auto missing = dir_.file("no/such/dir/apigw.db");
  auto opened = open_store(missing, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), condition::unavailable);
  EXPECT_NE(opened.error().message.find(missing), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace apigw::store
