// cli_common.hpp: what every apigw-ws command shares: global options, opening the store, duration
// parsing, and the exit-code convention (0 success, 1 the operation failed, 2 bad usage).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/session_store.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace apigw::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failed = 1;
inline constexpr int k_exit_usage = 2;

// globals: options given before the command.
struct globals {
  std::string db = "apigw.sqlite3";  // a SQLite path or a postgresql:// URL
  bool quiet = false;
};

// command_runner: what a parsed command does; returns the exit code.
using command_runner = std::function<int()>;

// registrar: adds a command to `app`; sets `run` when that command is chosen.
using registrar = void (*)(CLI::App& app, const globals& g, command_runner& run);

void register_send(CLI::App& app, const globals& g, command_runner& run);
void register_sessions(CLI::App& app, const globals& g, command_runner& run);
void register_tokens(CLI::App& app, const globals& g, command_runner& run);
void register_migrate(CLI::App& app, const globals& g, command_runner& run);
// register_gateway: `apigw-ws gateway`, the local API Gateway (commands/gateway.cpp).
void register_gateway(CLI::App& app, const globals& g, command_runner& run);
// register_users: `apigw-ws users add|passwd|grant|revoke|list` (commands/users.cpp).
void register_users(CLI::App& app, const globals& g, command_runner& run);
// register_session_admin: `apigw-ws sessions reconcile|kick` (commands/session_admin.cpp); adds to
// the `sessions` command, so it must be registered after register_sessions.
void register_session_admin(CLI::App& app, const globals& g, command_runner& run);

// register_api: `apigw-ws api apply|show|delete`, the API Gateway resources (commands/api.cpp).
void register_api(CLI::App& app, const globals& g, command_runner& run);

// register_domain: `apigw-ws domain apply|show`, custom domain + API mapping (commands/domain.cpp).
void register_domain(CLI::App& app, const globals& g, command_runner& run);

// register_dev: `apigw-ws dev`, the local gateway + the example apps in one command (commands/dev.cpp).
void register_dev(CLI::App& app, const globals& g, command_runner& run);

// open_migrated_store: opens the database and checks that it has the current schema (run
// `apigw-ws migrate` otherwise). When `migrate` is true it migrates instead of checking.
result<std::unique_ptr<store::session_store>> open_migrated_store(const globals& g, bool migrate = false);

// parse_duration: "90s", "15m", "12h", "7d", "250ms", or a bare number of seconds.
result<std::chrono::milliseconds> parse_duration(std::string_view text);

// fail: prints "apigw-ws: <what>: <message>" to stderr and returns k_exit_failed.
int fail(std::string_view what, const failure& f);

}  // namespace apigw::cli
