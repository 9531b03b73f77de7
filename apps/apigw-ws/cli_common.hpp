// cli_common.hpp: what every apigw-ws command shares: global options, opening the store, duration
// parsing, the exit-code convention (0 success, 1 the operation failed, 2 bad usage; the table is in
// the README's CLI section), --format, --yes and the confirmation question, the help examples, and
// how the tool names itself in the commands it prints.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/log.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/store/session_store.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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
void register_history(CLI::App& app, const globals& g, command_runner& run);
void register_migrate(CLI::App& app, const globals& g, command_runner& run);
// register_gateway: `apigw-ws gateway`, the local API Gateway (commands/gateway.cpp).
void register_gateway(CLI::App& app, const globals& g, command_runner& run);
// register_users: `apigw-ws users add|passwd|grant|revoke|list` (commands/users.cpp).
void register_users(CLI::App& app, const globals& g, command_runner& run);
// register_session_admin: `apigw-ws sessions reconcile|kick` (commands/session_admin.cpp); adds to
// the `sessions` command, so it must be registered after register_sessions.
void register_session_admin(CLI::App& app, const globals& g, command_runner& run);

// register_jobs: `apigw-ws jobs list|show|cancel`, the delivery jobs (commands/jobs.cpp).
void register_jobs(CLI::App& app, const globals& g, command_runner& run);

// register_credentials: `apigw-ws credentials`, the resolved AWS credentials and region
// (commands/credentials.cpp).
void register_credentials(CLI::App& app, const globals& g, command_runner& run);

// register_api: `apigw-ws api apply|show|delete`, the API Gateway resources (commands/api.cpp).
void register_api(CLI::App& app, const globals& g, command_runner& run);

// register_domain: `apigw-ws domain apply|show`, custom domain + API mapping (commands/domain.cpp).
void register_domain(CLI::App& app, const globals& g, command_runner& run);

// register_dev: `apigw-ws dev`, the local gateway + the example apps in one command (commands/dev.cpp).
void register_dev(CLI::App& app, const globals& g, command_runner& run);

// open_migrated_store: opens the database and checks that it has the current schema (run
// `apigw-ws migrate` otherwise). When `migrate` is true it migrates instead of checking. Without
// `migrate`, a SQLite file that does not exist fails with schema_missing before anything is opened,
// so a command run before `migrate` leaves no empty database file behind.
result<std::unique_ptr<store::session_store>> open_migrated_store(const globals& g, bool migrate = false);

// database_exists: false for a SQLite file that is not there yet (opening it would create it);
// true for PostgreSQL URLs.
bool database_exists(std::string_view db);

// ignore_stop_signals: after a clean shutdown, SIGINT and SIGTERM are ignored for the rest of the
// process. Call it once the signal_set that started the shutdown has been cleared (destroying it
// restores the default action): a supervisor repeating its SIGTERM while the program's objects are
// destroyed must not turn a clean exit (status 0) into a death by signal.
void ignore_stop_signals();

// self_command: how to run this program from a shell, for the commands the tool prints (the dev
// banner, "run ... migrate first"): "apigw-ws" when that name on PATH is this very binary, else its
// absolute path (shell-quoted when it needs to be), so a printed command works when pasted.
std::string self_command();

// shell_quote: `text` as one shell word (unchanged when it needs no quoting).
std::string shell_quote(std::string_view text);

// add_format_option: adds --format text|json (default text) to a command that prints data.
CLI::Option* add_format_option(CLI::App* cmd, std::string& format);

// log_options: how a command that logs (gateway, dev) writes its log to stderr.
struct log_options {
  std::string level = "info";   // debug, info, warn, error or off
  std::string format = "text";  // text (logfmt) or json (one object per line)
};

// add_log_options: adds --log-level (starting at `default_level`) and --log-format text|json.
void add_log_options(CLI::App* cmd, log_options& o, std::string_view default_level = "info");

// make_logger: the stderr logger `o` asks for; --quiet raises its level to warn.
logging::logger make_logger(const globals& g, const log_options& o);

// add_request_id_header: maps context.requestId to the X-Request-Id header on every integration of
// `config` that does not map that header already, so the backend's access lines carry the request
// id the gateway's lines carry (docs/design/logging.md).
void add_request_id_header(gateway::gateway_config& config);

// add_example: appends "Example:" lines to the command's --help (every command has one).
void add_example(CLI::App* cmd, std::string_view example);

// add_yes_flag: adds --yes (-y) to a destructive command: do it without asking.
CLI::Option* add_yes_flag(CLI::App* cmd, bool& yes);

// confirm: asks `question` on the terminal unless `yes`. Returns nullopt to go ahead; otherwise
// the exit code to return: k_exit_usage when standard input is not a terminal (nobody to ask:
// pass --yes), k_exit_failed when the answer was not yes.
std::optional<int> confirm(std::string_view what, std::string_view question, bool yes);

// make_credentials_provider: a provider of botocore's whole chain (environment, shared files,
// credential_process, SSO, assume role, web identity, containers, instance metadata) over the
// process environment, for `profile` when set (like `aws --profile`: the AWS_ACCESS_KEY_ID
// variables are then not read); failed refreshes are logged on stderr.
std::shared_ptr<mgmt::credentials_provider> make_credentials_provider(const std::optional<std::string>& profile);

// aws_access: what a command that calls AWS (send, sessions kick|reconcile, api, domain) signs with.
struct aws_access {
  std::shared_ptr<mgmt::credentials_provider> provider;
  std::optional<std::string> region;                 // --region
  std::optional<sigv4::resolved_credentials> found;  // nullopt: no credentials anywhere
  std::string looked;                                // where the chain looked when nothing was found

  // signing: the signing settings for one endpoint (mgmt::provider_signing): the provider's current
  // credentials and --region (else the endpoint's region, else the chain's). Without credentials a
  // loopback endpoint (mgmt::is_loopback_host) is called unsigned and any other is an error listing
  // every place looked; nothing is ever sent unsigned to AWS.
  std::function<result<mgmt::signing_config>(std::string_view endpoint)> signing() const;
};

// resolve_aws: resolves the chain once for --region and --profile (so the first request does not
// wait for STS or a credential_process, and a broken source fails before anything is done).
// Fails with "no usable AWS credentials: ..." when a source is broken (a malformed file, STS
// refusing, a credential_process failing) or when --profile names a profile without credentials;
// finding nothing at all without --profile is not a failure here (see aws_access::signing).
result<aws_access> resolve_aws(const std::optional<std::string>& region, const std::optional<std::string>& profile);

// parse_duration: "90s", "15m", "12h", "7d", "250ms", or a bare number of seconds.
result<std::chrono::milliseconds> parse_duration(std::string_view text);

// duration_check: a CLI11 check that the value is a duration parse_duration accepts, so a bad one is
// a usage error (exit 2) like any other bad option value.
CLI::Validator duration_check();

// fail: prints "apigw-ws: <what>: <message>" to stderr and returns k_exit_failed.
int fail(std::string_view what, const failure& f);

// usage_error: prints "apigw-ws: <what>: <message>" and a pointer to --help to stderr and returns
// k_exit_usage: for usage mistakes found after parsing (an option missing in a combination CLI11
// cannot express).
int usage_error(std::string_view what, std::string_view message);

}  // namespace apigw::cli
