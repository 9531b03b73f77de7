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
#pragma once

#include "apigw/core/error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

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

 private:
  pg_server() = default;
  std::filesystem::path dir_;
  std::filesystem::path bindir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
};

// pg_environment: one server for the whole test executable. Register it in main or with
// `testing::AddGlobalTestEnvironment(new pg_environment)`; tests reach it through server().
class pg_environment : public testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  // server: the running server; only valid between SetUp and TearDown.
  static pg_server& server();
};

}  // namespace apigw::test
