// The delivery job crash tests: real processes on loopback. Backend processes (jobs_backend: the
// embedded server and the job worker) share one local gateway (`apigw-ws gateway`) and one store;
// a load client (npm ws, load_clients.mjs) holds the connections and counts the job ids it gets.
// A broadcast to all of them is interrupted by kill -9 of a process holding a page; after the
// survivors (PostgreSQL) or a restarted process (SQLite) take over, every client has the job's id
// at least once, repeats stay within the pages that were in flight at the kill, and the job's
// report accounts for every client exactly once.
//
// APIGW_JOBS_CLIENTS overrides the number of clients (default 10,000).
#include "apigw/dispatch/jobs.hpp"
#include "apigw/store/session_store.hpp"
#include "support/child_process.hpp"
#include "support/pg_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace apigw {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// child: a program in a child process, stdout and stderr in files named after it under `dir`.
class child {
 public:
  child(const fs::path& dir, std::string name, std::vector<std::string> argv)
      : out_(dir / (name + ".out")), err_(dir / (name + ".err")), name_(std::move(name)) {
    auto args = testing::c_strings(argv);
    std::vector<std::string> env_s{"PATH=/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED=true"};
    auto envp = testing::c_strings(env_s);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data()) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~child() { stop(SIGTERM); }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  // stop: sends `sig` and waits for the exit.
  void stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  // wait_exit: waits up to `timeout` for the process to end by itself.
  bool wait_exit(std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return pid_ <= 0;
  }
  // wait_for: the first match of `pattern` in its stdout within `timeout` (group 1), or nullopt
  // when it exits or time runs out.
  std::optional<std::string> wait_for(const std::string& pattern, std::chrono::seconds timeout) {
    const std::regex re(pattern);
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      const auto text = testing::read_file(out_);
      std::smatch m;
      if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }
  std::string log() const { return testing::read_file(out_) + testing::read_file(err_); }
  const std::string& name() const noexcept { return name_; }

 private:
  fs::path out_;
  fs::path err_;
  std::string name_;
  pid_t pid_ = 0;
};

std::size_t client_count() {
  const char* v = std::getenv("APIGW_JOBS_CLIENTS");
  return v != nullptr ? static_cast<std::size_t>(std::atol(v)) : 10'000;
}

constexpr std::size_t k_page_size = 500;

class jobs_crash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("apigw-jobs-{}-{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(), ::getpid());
    fs::create_directories(dir_);
    const char* source = std::getenv("APIGW_SOURCE_DIR");
    source_ = source != nullptr ? source : ".";
    // The load client is npm ws from tests/peers/js (`npm ci` by scripts/setup.sh).
    if (!fs::exists("/usr/bin/node") || !fs::exists(fs::path(source_) / "tests/peers/js/node_modules/ws")) {
      GTEST_SKIP() << "node or tests/peers/js/node_modules/ws is missing (run scripts/setup.sh)";
    }
  }
  void TearDown() override {
    clients_.reset();
    backends_.clear();
    gateway_.reset();
    if (!HasFailure()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  // start_backend: jobs_backend over db_url_ as `owner`; its port.
  std::uint16_t start_backend(const std::string& owner, std::uint16_t port = 0) {
    backends_.push_back(std::make_unique<child>(
        dir_, owner,
        std::vector<std::string>{APIGW_JOBS_BACKEND_PATH, "--db", db_url_, "--owner", owner, "--lease-ms", "3000",
                                 "--poll-ms", "50", "--threads", "2", "--port", std::to_string(port)}));
    auto p = backends_.back()->wait_for(R"(ready port=(\d+))", 60s);
    EXPECT_TRUE(p) << backends_.back()->log();
    return p ? static_cast<std::uint16_t>(std::stoi(*p)) : 0;
  }

  // start_gateway: `apigw-ws gateway` in front of the backend on `backend_port`, registered in the
  // store as the gateway of the default dev API.
  void start_gateway(std::uint16_t backend_port) {
    gateway_ = std::make_unique<child>(
        dir_, "gateway",
        std::vector<std::string>{APIGW_CLI_PATH, "gateway", "--port", "0", "--threads", "2", "--backend",
                                 fmt::format("http://127.0.0.1:{}/ws/", backend_port)});
    auto p = gateway_->wait_for(R"(listening on ws://127\.0\.0\.1:(\d+))", 30s);
    ASSERT_TRUE(p) << gateway_->log();
    gateway_port_ = static_cast<std::uint16_t>(std::stoi(*p));
    store::gateway row;
    row.name = "local";
    row.api_id = "devapi0001";
    row.endpoint = fmt::format("http://127.0.0.1:{}/dev", gateway_port_);
    ASSERT_TRUE(db_->upsert_gateway(row));
  }

  // connect_clients: the load client with `n` connections, all open and recorded as sessions.
  void connect_clients(std::size_t n) {
    clients_ = std::make_unique<child>(
        dir_, "clients",
        std::vector<std::string>{"/usr/bin/node",
                                 (fs::path(source_) / "tests/integration/jobs/load_clients.mjs").string(), "--modules",
                                 (fs::path(source_) / "tests/peers/js/node_modules").string(), "--url",
                                 fmt::format("ws://127.0.0.1:{}/dev", gateway_port_), "--clients", std::to_string(n),
                                 "--out", (dir_ / "report.json").string(), "--done-file", (dir_ / "done").string()});
    auto line = clients_->wait_for(R"(connected (\d+) failed (\d+))", 300s);
    ASSERT_TRUE(line) << clients_->log();
    ASSERT_EQ(std::stoul(*line), n) << clients_->log();
    const auto q = store::session_query{}.connected_only();
    auto connected = [&] {
      auto c = db_->count(q);
      return c ? *c : std::int64_t{0};
    };
    for (int i = 0; i < 600 && connected() < static_cast<std::int64_t>(n); ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(connected(), static_cast<std::int64_t>(n));
  }

  // kill_a_sender: waits until the job is under way (a page finished, another claimed), then
  // kill -9 the owner of a claimed page; returns the pages it held.
  std::vector<store::job_page> kill_a_sender(store::job_id job) {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
      auto pages = db_->job_pages(job);
      if (pages && !pages->empty()) {
        const bool some_done = std::any_of(pages->begin(), pages->end(), [](const auto& p) { return p.finished; });
        for (const auto& p : *pages) {
          if (p.finished || !some_done) continue;
          for (auto& b : backends_) {
            if (b->name() != p.owner) continue;
            b->stop(SIGKILL);
            std::vector<store::job_page> held;
            if (auto after = db_->job_pages(job)) {
              for (const auto& q : *after) {
                if (!q.finished && q.owner == p.owner) held.push_back(q);
              }
            }
            if (held.empty()) held.push_back(p);
            killed_ = p.owner;
            return held;
          }
        }
      }
      std::this_thread::sleep_for(2ms);
    }
    ADD_FAILURE() << "the job never had a page in flight";
    return {};
  }

  store::delivery_job wait_done(store::job_id job, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    store::delivery_job j;
    while (std::chrono::steady_clock::now() < until) {
      auto r = db_->get_job(job);
      if (r) {
        j = *r;
        if (j.state != store::job_state::running) return j;
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the job did not finish: " << j.pages_done << "/" << j.pages << " pages";
    return j;
  }

  // client_report: tells the load client the job is over and reads what it counted.
  boost::json::object client_report() {
    { std::ofstream(dir_ / "done") << "done"; }
    EXPECT_TRUE(clients_->wait_exit(60s)) << clients_->log();
    auto text = testing::read_file(dir_ / "report.json");
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << text;
    return v.is_object() ? v.as_object() : boost::json::object{};
  }

  // check_outcome: every client got the id, repeats only within the pages in flight at the kill,
  // the report counts each client once.
  void check_outcome(const store::delivery_job& done, const std::vector<store::job_page>& in_flight, std::size_t n) {
    EXPECT_EQ(done.state, store::job_state::done) << done.error;
    EXPECT_EQ(done.counts.delivered, static_cast<std::int64_t>(n));
    EXPECT_EQ(done.counts.recipients(), static_cast<std::int64_t>(n));
    EXPECT_EQ(done.pages_done, done.pages);
    auto pages = db_->job_pages(done.id);
    ASSERT_TRUE(pages);
    std::size_t retried = 0;
    std::set<std::int64_t> in_flight_pages;
    for (const auto& p : in_flight) in_flight_pages.insert(p.page);
    for (const auto& p : *pages) {
      if (p.attempt > 1) {
        ++retried;
        EXPECT_TRUE(in_flight_pages.count(p.page)) << "page " << p.page << " was retried but not in flight at the kill";
        EXPECT_NE(p.owner, killed_) << "page " << p.page << " was finished by the killed process";
      }
    }
    EXPECT_GE(retried, 1u) << "no page was taken over after the kill";

    auto report = client_report();
    ASSERT_TRUE(report.contains("ids")) << boost::json::serialize(report);
    EXPECT_EQ(report.at("opened").to_number<std::int64_t>(), static_cast<std::int64_t>(n));
    EXPECT_EQ(report.at("closed_early").to_number<std::int64_t>(), 0);
    const auto& ids = report.at("ids").as_object();
    ASSERT_TRUE(ids.contains(done.message_id)) << boost::json::serialize(report);
    const auto& mine = ids.at(done.message_id).as_object();
    const auto clients = mine.at("clients").to_number<std::int64_t>();
    const auto total = mine.at("total").to_number<std::int64_t>();
    EXPECT_EQ(clients, static_cast<std::int64_t>(n)) << "every live client has the job's id";
    EXPECT_LE(total - clients, static_cast<std::int64_t>(in_flight.size() * k_page_size))
        << "repeats only within the pages in flight at the kill";
    EXPECT_LE(mine.at("max").to_number<std::int64_t>(), 2);
    std::printf(
        "RESULT jobs-crash clients=%zu delivered=%lld pages=%lld retried_pages=%zu in_flight=%zu repeats=%lld\n", n,
        static_cast<long long>(done.counts.delivered), static_cast<long long>(done.pages), retried, in_flight.size(),
        static_cast<long long>(total - clients));
  }

  fs::path dir_;
  std::string source_;
  std::string db_url_;
  manual_clock unused_clock_;
  std::unique_ptr<store::session_store> db_;
  std::vector<std::unique_ptr<child>> backends_;
  std::unique_ptr<child> gateway_;
  std::unique_ptr<child> clients_;
  std::uint16_t gateway_port_ = 0;
  std::string killed_;
};

store::job_id start_broadcast(store::session_store& db) {
  dispatch::job_options o;
  o.page_size = k_page_size;
  o.created_by = "crash test";
  auto job = dispatch::start_job(db, store::job_target::all(), json::object{{"type", "crash-test"}}, o);
  EXPECT_TRUE(job) << job.error().message;
  return job ? job->id : 0;
}

TEST_F(jobs_crash, postgresql_three_backends_survive_kill_9_of_the_sender) {
  auto pg = test::pg_server::start();
  ASSERT_TRUE(pg) << pg.error().message;
  auto url = (*pg)->create_database("jobs");
  ASSERT_TRUE(url) << url.error().message;
  db_url_ = *url;
  auto opened = store::open_store(db_url_, system_clock_source::instance());
  ASSERT_TRUE(opened) << opened.error().message;
  db_ = std::move(*opened);
  ASSERT_TRUE(db_->migrate());

  const auto first = start_backend("b1");
  ASSERT_NE(first, 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway(first));
  ASSERT_NE(start_backend("b2"), 0);
  ASSERT_NE(start_backend("b3"), 0);
  const auto n = client_count();
  ASSERT_NO_FATAL_FAILURE(connect_clients(n));

  const auto job = start_broadcast(*db_);
  const auto in_flight = kill_a_sender(job);
  ASSERT_FALSE(in_flight.empty());
  const auto done = wait_done(job, 180s);
  check_outcome(done, in_flight, n);
  db_.reset();
}

TEST_F(jobs_crash, sqlite_one_backend_killed_and_restarted) {
  db_url_ = "sqlite:" + (dir_ / "jobs.sqlite3").string();
  auto opened = store::open_store(db_url_, system_clock_source::instance());
  ASSERT_TRUE(opened) << opened.error().message;
  db_ = std::move(*opened);
  ASSERT_TRUE(db_->migrate());

  const auto port = start_backend("b1");
  ASSERT_NE(port, 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway(port));
  const auto n = client_count();
  ASSERT_NO_FATAL_FAILURE(connect_clients(n));

  const auto job = start_broadcast(*db_);
  const auto in_flight = kill_a_sender(job);
  ASSERT_FALSE(in_flight.empty());
  // The same process restarted on the same port (the gateway's integrations point there), under a
  // new worker name: it takes the dead one's page once the lease has expired.
  ASSERT_NE(start_backend("b1-restarted", port), 0);
  const auto done = wait_done(job, 180s);
  check_outcome(done, in_flight, n);
  db_.reset();
}

}  // namespace
}  // namespace apigw
