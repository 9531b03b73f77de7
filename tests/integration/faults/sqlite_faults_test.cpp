// SQLite "database is locked": another connection holds the write lock (BEGIN EXCLUSIVE) while a
// broadcast finds gone connections. Reads go on (WAL), so everyone is reached once; marking the
// gone sessions waits the lock out, or, when it lasts, reports a clear unavailable error while the
// report keeps every gone id. The other writer's work is never lost either.
#include "faults_support.hpp"
#include "support/temp_dir.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace apigw::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t k_sessions = 1000;
constexpr std::size_t k_gone_every = 10;  // cid(0), cid(10), ... answer 410

// other_writer: a second SQLite connection to the same file that takes the write lock.
class other_writer {
 public:
  explicit other_writer(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~other_writer() { sqlite3_close(db_); }
  other_writer(const other_writer&) = delete;
  other_writer& operator=(const other_writer&) = delete;
  bool exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
  // lock: BEGIN EXCLUSIVE and one row of its own, left uncommitted.
  bool lock() {
    return exec("BEGIN EXCLUSIVE") &&
           exec("INSERT INTO users (username, password_hash, created_at) VALUES ('other', 'x', 0)");
  }

 private:
  sqlite3* db_ = nullptr;
};

// hooked_gone_sink: a store_gone_sink that calls a test hook after each failed call.
class hooked_gone_sink final : public mgmt::gone_sink {
 public:
  explicit hooked_gone_sink(store::session_store& s) : inner_(s) {}
  std::function<void(std::size_t failures)> after_failure;
  result<void> mark_disconnected(std::span<const std::string> ids) override {
    auto r = inner_.mark_disconnected(ids);
    if (!r && after_failure) after_failure(++failures_);
    return r;
  }
  std::size_t marked() const noexcept { return inner_.marked(); }

 private:
  dispatch::store_gone_sink inner_;
  std::size_t failures_ = 0;
};

class sqlite_faults : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_ / "apigw.db").string();
    store::store_options o;
    o.busy_timeout = 100ms;
    auto opened = store::open_store("sqlite:" + path_, clock_, o);
    ASSERT_TRUE(opened) << why(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    seed(*store_, k_sessions, posts_.endpoint());
    for (std::size_t i = 0; i < k_sessions; i += k_gone_every) posts_.script(cid(i), {testing::reply{410}});
    clock_.advance(10min);  // every session is past its connect window: a 410 means gone
  }
  void TearDown() override { store_.reset(); }

  result<mgmt::delivery_report> broadcast(hooked_gone_sink& sink, mgmt::source_retry_policy retry) {
    hooked_source source(*store_, 300);
    mgmt::sender_options o;
    o.source_retry = retry;
    mgmt::sender sender(o);
    return sender.send_sync(source, R"({"type":"system"})", &sink);
  }

  std::int64_t connected() { return store_->count(store::session_query{}.connected_only()).value(); }

  manual_clock clock_;
  apigw::testing::temp_dir tmp_{"apigw-faults-"};
  const std::filesystem::path dir_ = tmp_.path();
  std::string path_;
  std::unique_ptr<store::session_store> store_;
  testing::connections_server posts_;
};

constexpr std::size_t k_gone = k_sessions / k_gone_every;

TEST_F(sqlite_faults, lock_released_while_marking_gone_is_waited_out) {
  other_writer other(path_);
  ASSERT_TRUE(other.lock());
  hooked_gone_sink sink(*store_);
  sink.after_failure = [&](std::size_t) { ASSERT_TRUE(other.exec("COMMIT")); };
  auto report = broadcast(sink, {});
  ASSERT_TRUE(report) << why(report);
  EXPECT_FALSE(report->gone_sink_error) << report->gone_sink_error->message;
  EXPECT_EQ(report->gone_sink_retries, 1U);
  EXPECT_EQ(report->gone.size(), k_gone);
  EXPECT_EQ(report->delivered, k_sessions - k_gone);
  EXPECT_EQ(sink.marked(), k_gone);
  EXPECT_EQ(connected(), static_cast<std::int64_t>(k_sessions - k_gone));
  EXPECT_TRUE(store_->find_user("other")) << "the other writer's row is there";
  expect_each_once(posts_, k_sessions, k_sessions);
}

TEST_F(sqlite_faults, lock_held_for_good_is_reported_and_keeps_the_gone_ids) {
  other_writer other(path_);
  ASSERT_TRUE(other.lock());
  hooked_gone_sink sink(*store_);
  mgmt::source_retry_policy retry;
  retry.first_delay = 50ms;
  retry.give_up_after = 300ms;
  auto report = broadcast(sink, retry);
  ASSERT_TRUE(report) << why(report);
  ASSERT_TRUE(report->gone_sink_error);
  EXPECT_EQ(report->gone_sink_error->code, condition::unavailable);
  EXPECT_THAT(report->gone_sink_error->message, ::testing::HasSubstr("database is locked"));
  EXPECT_THAT(report->gone_sink_error->message, ::testing::HasSubstr("gave up after"));
  EXPECT_GE(report->gone_sink_retries, 1U);
  EXPECT_EQ(report->gone.size(), k_gone) << "every gone id is in the report";
  EXPECT_EQ(report->delivered, k_sessions - k_gone);
  EXPECT_EQ(connected(), static_cast<std::int64_t>(k_sessions)) << "nothing half-marked";
  expect_each_once(posts_, k_sessions, k_sessions);

  ASSERT_TRUE(other.exec("COMMIT"));
  EXPECT_TRUE(store_->find_user("other")) << "the other writer's row is there";
  dispatch::store_gone_sink later(*store_);
  ASSERT_TRUE(later.mark_disconnected(report->gone)) << "the report's ids can be marked once the lock is gone";
  EXPECT_EQ(connected(), static_cast<std::int64_t>(k_sessions - k_gone));
}

}  // namespace
}  // namespace apigw::faults
