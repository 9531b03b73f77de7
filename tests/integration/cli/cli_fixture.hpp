// cli_fixture.hpp: the fixture of the apigw-ws CLI end-to-end tests: a temp dir with a migrated
// SQLite file, the real binary run in a child process with a hermetic environment, and the fake
// @connections server on loopback recording what arrives.
#pragma once

#include "support/child_process.hpp"
#include "support/connections_server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace apigw {

class cli_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("apigw-cli-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "apigw.sqlite3").string();
    // Hermetic AWS settings: no credentials unless a test gives some, and never instance metadata
    // (the credentials chain would otherwise ask 169.254.169.254 when it finds nothing).
    env_ = {{"HOME", dir_.string()}, {"PATH", "/usr/bin:/bin"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    ASSERT_EQ(run({"migrate"}).exit_code, 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // run: apigw-ws --db <db> args..., with env_ as the whole environment and stdin from /dev/null.
  testing::run_result run(std::vector<std::string> args) {
    std::vector<std::string> argv{APIGW_CLI_PATH, "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(std::move(argv), env_, dir_);
  }

  void add_session(const std::string& id, const std::string& channel, const std::string& endpoint) {
    auto r = run(
        {"sessions", "add", "--connection", id, "--channel", channel, "--gateway", "local", "--endpoint", endpoint});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string count(std::vector<std::string> filter) {
    filter.insert(filter.begin(), {"sessions", "count"});
    auto r = run(filter);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::filesystem::path dir_;
  std::string db_;
  std::map<std::string, std::string> env_;
  testing::connections_server server_;
};

}  // namespace apigw
