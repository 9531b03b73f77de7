// dispatch::job_worker in one process: workers with several threads each share the pages of a job
// and reach every recipient once through a fake @connections (a 410 counted gone), a worker
// stops promptly while it waits for work, and a page a dead worker held is sent again once its lease
// has expired. Real SQLite file, real sender, real HTTP on loopback.
#include "apigw/dispatch/job_worker.hpp"

#include "apigw/dispatch/jobs.hpp"
#include "apigw/store/session_store.hpp"
#include "support/connections_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace apigw {
namespace {

using namespace std::chrono_literals;

std::string conn(int i) {
  return fmt::format("wrk{:012d}=", i);
}

class job_worker_test : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("apigw-job-worker-{}-{}.sqlite3",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), ::getpid());
    std::filesystem::remove(path_);
    auto st = store::open_store(path_.string(), system_clock_source::instance());
    ASSERT_TRUE(st);
    db_ = std::move(*st);
    ASSERT_TRUE(db_->migrate());
    store::gateway g;
    g.name = "fake";
    g.api_id = "fake000001";
    g.endpoint = server_.endpoint("/dev");
    auto gw = db_->upsert_gateway(g);
    ASSERT_TRUE(gw);
    gateway_ = gw->id;
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove(path_);
  }
  void connect(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(db_->create_session(conn(i), std::nullopt, gateway_));
  }
  store::delivery_job wait_done(store::job_id id) {
    store::delivery_job j;
    for (int i = 0; i < 300; ++i) {
      auto r = db_->get_job(id);
      if (r) j = *r;
      if (r && j.state != store::job_state::running) break;
      std::this_thread::sleep_for(20ms);
    }
    return j;
  }

  std::filesystem::path path_;
  testing::connections_server server_{2};
  std::unique_ptr<store::session_store> db_;
  store::gateway_id gateway_ = 0;
  mgmt::sender sender_;
};

TEST_F(job_worker_test, two_workers_reach_every_recipient_once) {
  connect(300);
  server_.script(conn(5), {{.status = 410}});
  // The 410 marks only sessions older than the connect window; none is here, so none is marked.
  auto job = dispatch::start_job(*db_, store::job_target::all(), json::object{{"type", "t"}}, {.page_size = 20});
  ASSERT_TRUE(job);
  dispatch::job_worker a(sender_, *db_, {.owner = "a", .lease = 5s, .poll = 20ms, .threads = 2});
  dispatch::job_worker b(sender_, *db_, {.owner = "b", .lease = 5s, .poll = 20ms, .threads = 2});
  a.start();
  b.start();
  auto done = wait_done(job->id);
  a.stop();
  b.stop();
  EXPECT_EQ(done.state, store::job_state::done);
  EXPECT_EQ(done.counts.delivered, 299);
  EXPECT_EQ(done.counts.gone, 1);
  EXPECT_EQ(done.pages, 15);
  EXPECT_EQ(a.pages() + b.pages(), 15u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(server_.count_for(conn(i)), 1u) << conn(i);
  EXPECT_TRUE(db_->find_session(conn(5))->connected) << "inside its connect window: not marked";
}

TEST_F(job_worker_test, a_dead_workers_page_is_sent_again_after_its_lease) {
  connect(30);
  auto job = dispatch::start_job(*db_, store::job_target::all(), json::object{{"type", "t"}}, {.page_size = 10});
  ASSERT_TRUE(job);
  // A worker that claimed page 1 and died before sending it.
  auto held = db_->claim_page("dead", 300ms);
  ASSERT_TRUE(held && held->has_value());
  dispatch::job_worker live(sender_, *db_, {.owner = "live", .lease = 5s, .poll = 20ms});
  live.start();
  auto done = wait_done(job->id);
  live.stop();
  EXPECT_EQ(done.state, store::job_state::done);
  EXPECT_EQ(done.counts.delivered, 30);
  auto pages = db_->job_pages(job->id);
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->front().owner, "live");
  EXPECT_EQ(pages->front().attempt, 2);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(server_.count_for(conn(i)), 1u) << conn(i);
}

TEST_F(job_worker_test, stop_returns_promptly_while_the_worker_waits_for_work) {
  dispatch::job_worker w(sender_, *db_, {.owner = "w", .poll = 10s});
  w.start();
  const auto before = std::chrono::steady_clock::now();
  w.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  w.stop();
  EXPECT_EQ(w.pages(), 0u);
}

}  // namespace
}  // namespace apigw
