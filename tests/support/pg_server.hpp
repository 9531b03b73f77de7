// support/pg_server.hpp: a throwaway PostgreSQL server for tests.
//
// `pg_server::start()` runs initdb into a fresh directory under /tmp and starts the server with
// pg_ctl on a free port of 127.0.0.1 (its unix socket in the same directory); the destructor stops
// it (`pg_ctl stop -m immediate`) and removes the directory. PostgreSQL refuses to run as root, so
// when the tests run as root the directory is handed to the `postgres` system user and every
// command runs through `runuser -u postgres --`.
//
// A test executable usually shares one server through `pg_environment` (a GoogleTest global
// environment) and gives each test its own database with `create_database`.
//
// Fault tests drive one server of their own through its failures: freeze/thaw (SIGSTOP/SIGCONT to
// the postmaster and every backend: the sockets stay open, nothing answers), stop (pg_ctl stop)
// and restart (the same port and data directory, so clients' URLs and data stay valid).
#pragma once

#include "apigw/core/error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::test {

class pg_server {
 public:
  // start: a running server. Fails with a message saying what is missing (the binaries: install
  // postgresql, or set APIGW_PG_BINDIR) or which command failed, with the tail of its log.
  static result<std::unique_ptr<pg_server>> start();

  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;
  ~pg_server();

  std::uint16_t port() const noexcept { return port_; }
  // url: a libpq URL of `database` on this server, as the superuser "postgres" (trust auth).
  std::string url(std::string_view database = "postgres") const;
  // create_database: creates an empty database and returns its URL.
  result<std::string> create_database(std::string_view name);
  // unused_port_url: a URL of 127.0.0.1 on a port nobody listens on (for "unreachable" tests).
  static std::string unused_port_url();

  // freeze: stops (SIGSTOP) the postmaster and all its processes; connections stay open but
  // nothing answers, as with a hung host. thaw: continues them (SIGCONT). Both fail when the server
  // is not running; the destructor thaws a frozen server before stopping it.
  result<void> freeze();
  result<void> thaw();
  // stop: shuts the server down (`pg_ctl stop -m fast`: clients' connections are closed).
  // restart: starts a stopped server again on the same port and data directory (a running one
  // is stopped first). Fail with the command's output.
  result<void> stop();
  result<void> restart();
  bool running() const noexcept { return running_; }

 private:
  pg_server() = default;
  // launch: pg_ctl start on port_ (waits until it accepts connections).
  result<void> launch();
  std::filesystem::path dir_;
  std::filesystem::path bindir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  std::vector<int> frozen_;  // the processes freeze() stopped
};

// pg_environment: one server for the whole test executable. Register it in main or with
// `testing::AddGlobalTestEnvironment(new pg_environment)`; tests reach it through server().
class pg_environment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  // server: the running server; only valid between SetUp and TearDown.
  static pg_server& server();
};

}  // namespace apigw::test
