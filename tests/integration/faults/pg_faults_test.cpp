// PostgreSQL faults, each on a throwaway server of its own: frozen (SIGSTOP) and restarted
// between two recipient pages of a broadcast, stopped for good, a statement stuck behind a lock,
// pooled connections killed by a restart. Each test asserts outcomes: the right error, everyone
// reached exactly once, nothing hanging (a generous watchdog turns a hang into a failure).
#include "faults_support.hpp"
#include "support/pg_server.hpp"

#include <libpq-fe.h>

#include <future>
#include <memory>

namespace apigw::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t k_sessions = 10'000;
constexpr std::size_t k_page = 1000;
// Longer than any outcome here takes; only a hang (the defect) reaches it.
constexpr auto k_watchdog = 60s;

class pg_faults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = test::pg_server::start();
    ASSERT_TRUE(started) << why(started);
    server_ = std::move(*started);
    auto url = server_->create_database("faults");
    ASSERT_TRUE(url) << why(url);
    url_ = *url;
    store_options_.statement_timeout = 500ms;
    store_options_.connect_timeout = 2s;
    auto opened = store::open_store(url_, clock_, store_options_);
    ASSERT_TRUE(opened) << why(opened);
    store_ = std::move(*opened);
    auto migrated = store_->migrate();
    ASSERT_TRUE(migrated) << why(migrated);
  }

  void TearDown() override {
    if (server_) (void)server_->thaw();
  }

  // broadcast: sends one message to every seeded session through `source` on a sender with
  // `retry`; fails the test (after thawing the server) if the send hangs.
  result<mgmt::delivery_report> broadcast(hooked_source& source, mgmt::source_retry_policy retry) {
    mgmt::sender_options o;
    o.source_retry = retry;
    mgmt::sender sender(o);
    auto done = std::async(std::launch::async, [&] { return sender.send_sync(source, R"({"type":"system"})"); });
    if (done.wait_for(k_watchdog) != std::future_status::ready) {
      ADD_FAILURE() << "the send did not finish within " << k_watchdog.count() << " s: it hangs on the database";
      (void)server_->thaw();
    }
    return done.get();
  }

  std::unique_ptr<test::pg_server> server_;
  std::string url_;
  store::store_options store_options_;
  system_clock_source& clock_ = system_clock_source::instance();
  std::unique_ptr<store::session_store> store_;
  testing::connections_server posts_;
};

// libpq_session: a plain libpq connection, for holding locks the store must wait behind.
struct libpq_session {
  explicit libpq_session(const std::string& url) : conn(PQconnectdb(url.c_str())) {}
  ~libpq_session() { PQfinish(conn); }
  bool exec(const char* sql) {
    PGresult* r = PQexec(conn, sql);
    const bool good = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return good;
  }
  PGconn* conn;
};

// The issue's scenario: the server restarts after 3,000 of 10,000 recipients. The pooled
// connection is dead; the next page's SELECT reconnects and runs again, so the send goes on.
TEST_F(pg_faults, restart_between_pages_reaches_everyone_exactly_once) {
  seed(*store_, k_sessions, posts_.endpoint());
  hooked_source source(*store_, k_page);
  source.before = [&](std::size_t call) {
    if (call == 4) {
      ASSERT_TRUE(server_->restart());
    }
  };
  auto report = broadcast(source, {});
  ASSERT_TRUE(report) << why(report);
  EXPECT_FALSE(report->source_error) << report->source_error->message;
  EXPECT_EQ(report->delivered, k_sessions);
  EXPECT_TRUE(report->failed.empty());
  expect_each_once(posts_, k_sessions, k_sessions);
}

// The server is down when the next page is due and comes back while the sender waits: the
// sender asks for the same page again and resumes there.
TEST_F(pg_faults, server_back_after_a_page_failed_resumes_from_that_page) {
  seed(*store_, k_sessions, posts_.endpoint());
  hooked_source source(*store_, k_page);
  source.before = [&](std::size_t call) {
    if (call == 4) {
      ASSERT_TRUE(server_->stop());
    }
  };
  source.after_failure = [&](std::size_t failures) {
    if (failures == 2) {
      ASSERT_TRUE(server_->restart());
    }
  };
  mgmt::source_retry_policy retry;
  retry.first_delay = 50ms;
  auto report = broadcast(source, retry);
  ASSERT_TRUE(report) << why(report);
  EXPECT_FALSE(report->source_error) << report->source_error->message;
  EXPECT_EQ(report->source_retries, 2U) << "two failed reads of page 4, then success";
  EXPECT_EQ(report->delivered, k_sessions);
  EXPECT_TRUE(report->failed.empty());
  expect_each_once(posts_, k_sessions, k_sessions);
}

// The server never comes back: the send gives up after the retry budget and says why; the pages
// read before were delivered once each.
TEST_F(pg_faults, server_down_for_good_is_reported_with_its_cause) {
  seed(*store_, k_sessions, posts_.endpoint());
  hooked_source source(*store_, k_page);
  source.before = [&](std::size_t call) {
    if (call == 4) {
      ASSERT_TRUE(server_->stop());
    }
  };
  mgmt::source_retry_policy retry;
  retry.first_delay = 50ms;
  retry.max_delay = 200ms;
  retry.give_up_after = 1s;
  auto report = broadcast(source, retry);
  ASSERT_TRUE(report) << why(report);
  ASSERT_TRUE(report->source_error);
  EXPECT_EQ(report->source_error->code, condition::unavailable);
  EXPECT_THAT(report->source_error->message, ::testing::HasSubstr("PostgreSQL"));
  EXPECT_THAT(report->source_error->message, ::testing::HasSubstr("gave up after"));
  EXPECT_GE(report->source_retries, 1U);
  EXPECT_EQ(report->source_retries + 1, source.failures());
  EXPECT_EQ(report->delivered, 3 * k_page);
  EXPECT_TRUE(report->failed.empty());
  expect_each_once(posts_, k_sessions, 3 * k_page);
}

// A frozen server (SIGSTOP: the sockets stay open, nothing answers) between two pages: the read
// gives up after statement_timeout + grace with an error saying so, instead of hanging.
TEST_F(pg_faults, frozen_server_fails_the_page_after_the_statement_timeout) {
  seed(*store_, k_sessions, posts_.endpoint());
  hooked_source source(*store_, k_page);
  source.before = [&](std::size_t call) {
    if (call == 4) {
      ASSERT_TRUE(server_->freeze());
    }
  };
  mgmt::source_retry_policy no_retry;
  no_retry.give_up_after = 0ms;
  auto report = broadcast(source, no_retry);
  ASSERT_TRUE(report) << why(report);
  ASSERT_TRUE(report->source_error);
  EXPECT_EQ(report->source_error->code, condition::unavailable);
  EXPECT_THAT(report->source_error->message, ::testing::HasSubstr("did not answer within 1500 ms"));
  EXPECT_EQ(report->source_retries, 0U);
  EXPECT_EQ(report->delivered, 3 * k_page);
  expect_each_once(posts_, k_sessions, 3 * k_page);
}

// A live server cancels a statement stuck behind a lock at statement_timeout: the call fails with
// busy (unavailable) and the connection stays usable.
TEST_F(pg_faults, statement_behind_a_lock_is_cancelled_at_the_statement_timeout) {
  seed(*store_, 3, posts_.endpoint());
  libpq_session other(url_);
  ASSERT_TRUE(other.exec("BEGIN"));
  ASSERT_TRUE(other.exec("LOCK TABLE websocket_sessions IN ACCESS EXCLUSIVE MODE"));
  auto done = std::async(std::launch::async, [&] { return store_->count(store::session_query{}); });
  const bool finished = done.wait_for(k_watchdog) == std::future_status::ready;
  ASSERT_TRUE(other.exec("ROLLBACK"));
  ASSERT_TRUE(finished) << "count() hangs behind the lock";
  auto counted = done.get();
  ASSERT_FALSE(counted);
  EXPECT_EQ(counted.error(), store::error::busy);
  EXPECT_EQ(counted.error(), condition::unavailable);
  EXPECT_THAT(counted.error().message, ::testing::HasSubstr("statement_timeout of 500 ms"));
  auto again = store_->count(store::session_query{});
  ASSERT_TRUE(again) << why(again);
  EXPECT_EQ(*again, 3);
}

// The page query succeeds but a gateway lookup halfway through the page fails (its table is
// locked past the statement timeout): the source must hand out that whole page on the retry, not
// resume after the rows it had looked at.
TEST_F(pg_faults, lookup_failing_halfway_through_a_page_skips_nobody) {
  constexpr std::size_t n = 5000;
  constexpr std::size_t first_of_b = 3500;  // page 4 holds 500 sessions of gateway a, then 500 of b
  store::gateway a;
  a.name = "a";
  a.endpoint = posts_.endpoint();
  auto ga = store_->upsert_gateway(a);
  ASSERT_TRUE(ga) << why(ga);
  store::gateway b = a;
  b.name = "b";
  auto gb = store_->upsert_gateway(b);
  ASSERT_TRUE(gb) << why(gb);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(store_->create_session(cid(i), std::nullopt, i < first_of_b ? ga->id : gb->id));
  }
  libpq_session locker(url_);
  hooked_source source(*store_, k_page);
  source.before = [&](std::size_t call) {
    if (call == 4) {
      ASSERT_TRUE(locker.exec("BEGIN"));
      ASSERT_TRUE(locker.exec("LOCK TABLE api_gateways IN ACCESS EXCLUSIVE MODE"));
    }
  };
  source.after_failure = [&](std::size_t) { ASSERT_TRUE(locker.exec("ROLLBACK")); };
  auto report = broadcast(source, {});
  ASSERT_TRUE(report) << why(report);
  EXPECT_FALSE(report->source_error) << report->source_error->message;
  EXPECT_EQ(source.failures(), 1U) << "the lookup of gateway b failed once";
  EXPECT_EQ(report->source_retries, 1U);
  EXPECT_EQ(report->delivered, n);
  expect_each_once(posts_, n, n);
}

// After a restart every pooled connection is dead. A read reconnects and runs again at once; a
// write that may have run is not repeated: it fails with unreachable, and the next one succeeds
// on a new connection. Nothing is written twice.
TEST_F(pg_faults, restart_read_is_retried_write_is_not) {
  seed(*store_, 1, posts_.endpoint());
  ASSERT_TRUE(server_->restart());
  auto counted = store_->count(store::session_query{});
  ASSERT_TRUE(counted) << why(counted);
  EXPECT_EQ(*counted, 1);

  const std::vector<std::string> ids{cid(0)};
  ASSERT_TRUE(store_->mark_disconnected(ids));  // prepares the statement on the pooled connection
  ASSERT_TRUE(server_->restart());
  auto marked = store_->mark_disconnected(ids);
  ASSERT_FALSE(marked) << "a write whose connection was lost is not repeated";
  EXPECT_EQ(marked.error(), store::error::unreachable);
  auto created = store_->create_session(cid(1), std::nullopt, std::nullopt);
  ASSERT_TRUE(created) << why(created);
  auto all = store_->count(store::session_query{});
  ASSERT_TRUE(all) << why(all);
  EXPECT_EQ(*all, 2);
}

}  // namespace
}  // namespace apigw::faults
