// End-to-end tests of `apigw-ws users ...` and `apigw-ws sessions reconcile|kick`: the real binary
// in a child process, a SQLite file in a temp dir, the fake @connections server on loopback.
#include "apigw/dispatch/auth.hpp"
#include "apigw/store/session_store.hpp"
#include "support/backdate.hpp"
#include "support/child_process.hpp"
#include "support/connections_server.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace apigw {
namespace {

namespace fs = std::filesystem;

using testing::run_result;

class cli_admin_test : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "apigw.sqlite3").string();
    env_ = {{"HOME", dir_.string()}, {"PATH", "/usr/bin:/bin"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    ASSERT_EQ(run({"migrate"}).exit_code, 0);
  }

  // run: apigw-ws --db <db> args..., with env_ as the whole environment and stdin from /dev/null.
  run_result run(std::vector<std::string> args) {
    std::vector<std::string> argv{APIGW_CLI_PATH, "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(std::move(argv), env_, dir_);
  }

  std::unique_ptr<store::session_store> open() {
    auto st = store::open_store(db_, system_clock_source::instance());
    EXPECT_TRUE(st);
    return st ? std::move(*st) : nullptr;
  }

  apigw::testing::temp_dir tmp_{"apigw-cli-admin-"};
  const fs::path dir_ = tmp_.path();
  std::string db_;
  std::map<std::string, std::string> env_;
};

TEST_F(cli_admin_test, users_add_passwd_grant_revoke_list) {
  auto r = run({"users", "add", "alice"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("APIGW_PASSWORD"), std::string::npos) << r.err;
  env_["APIGW_PASSWORD"] = "first";
  ASSERT_EQ(run({"users", "add", "alice"}).exit_code, 0);
  EXPECT_EQ(run({"users", "add", "alice"}).exit_code, 1) << "duplicate name";
  ASSERT_EQ(run({"users", "grant", "alice", "chat.announce"}).exit_code, 0);
  ASSERT_EQ(run({"users", "grant", "alice", "admin"}).exit_code, 0);
  ASSERT_EQ(run({"users", "revoke", "alice", "admin"}).exit_code, 0);
  EXPECT_EQ(run({"users", "grant", "nobody", "x"}).exit_code, 1);
  r = run({"users", "list"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("alice"), std::string::npos);
  EXPECT_NE(r.out.find("chat.announce"), std::string::npos);
  EXPECT_EQ(r.out.find("admin"), std::string::npos);

  auto st = open();
  auto u = st->find_user("alice");
  ASSERT_TRUE(u);
  EXPECT_TRUE(dispatch::verify_password(u->password_hash, "first"));
  env_["APIGW_PASSWORD"] = "second";
  ASSERT_EQ(run({"users", "passwd", "alice"}).exit_code, 0);
  u = st->find_user("alice");
  EXPECT_TRUE(dispatch::verify_password(u->password_hash, "second"));
  EXPECT_FALSE(dispatch::verify_password(u->password_hash, "first"));
}

TEST_F(cli_admin_test, reconcile_marks_old_sessions_and_asks_about_the_rest) {
  testing::connections_server server;
  for (const char* id : {"c0000000000001=", "c0000000000002=", "c0000000000003="}) {
    ASSERT_EQ(run({"sessions", "add", "--connection", id, "--gateway", "local", "--endpoint", server.endpoint("/dev")})
                  .exit_code,
              0);
  }
  testing::backdate_sessions(db_, std::chrono::minutes(1));  // established, past the connect window
  server.script("c0000000000002=", {{.status = 410}});
  auto r = run({"sessions", "reconcile", "--check"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto st = open();
  EXPECT_TRUE(st->find_session("c0000000000001=")->connected);
  EXPECT_FALSE(st->find_session("c0000000000002=")->connected);
  EXPECT_EQ(server.request_count(), 3U);

  r = run({"sessions", "reconcile", "--max-age", "0s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*st->count(store::session_query{}.connected_only()), 0);
}

TEST_F(cli_admin_test, kick_deletes_the_connection_and_marks_it) {
  testing::connections_server server;
  ASSERT_EQ(run({"sessions", "add", "--connection", "c0000000000001=", "--gateway", "local", "--endpoint",
                 server.endpoint("/dev")})
                .exit_code,
            0);
  auto r = run({"sessions", "kick", "--connection", "c0000000000001=", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].connection_id, "c0000000000001=");
  EXPECT_FALSE(open()->find_session("c0000000000001=")->connected);
  EXPECT_EQ(run({"sessions", "kick", "--connection", "c0000000000009=", "--yes"}).exit_code, 1);
}

}  // namespace
}  // namespace apigw
