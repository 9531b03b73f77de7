// apigw-ws: the command-line tool. Each command lives in commands/<command>.cpp; this file parses
// the global options, picks the command and turns its outcome into the exit code.
#include "cli_common.hpp"

#include "apigw/core/version.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  using namespace apigw::cli;
  CLI::App app{
      "apigw-ws: live messages (chat, toasts, progress, invalidation) over AWS API Gateway WebSocket APIs.\n"
      "Sends through the Management API (@connections) and manages the session store."};
  app.name("apigw-ws");
  app.set_version_flag("--version", "apigw-ws " + std::string(apigw::k_version));
  app.require_subcommand(1);
  app.fallthrough();
  globals g;
  app.add_option("--db", g.db, "Session store: a SQLite file path (sqlite:PATH also works) or a postgresql:// URL")
      ->envname("APIGW_DB")
      ->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "Print only errors");

  command_runner run;
  register_send(app, g, run);
  register_sessions(app, g, run);
  register_tokens(app, g, run);
  register_history(app, g, run);
  register_migrate(app, g, run);
  register_gateway(app, g, run);
  register_users(app, g, run);
  register_session_admin(app, g, run);
  register_jobs(app, g, run);
  register_api(app, g, run);
  register_domain(app, g, run);
  register_credentials(app, g, run);
  // `dev` (the local gateway with the example apps) is the apigw_cli_dev library, linked only by
  // this executable, so the command library itself does not carry the example apps.
  register_dev(app, g, run);
  // The examples of the command groups and of the tool, after their commands were added (a command
  // added later would start with its parent's footer).
  add_example(app.get_subcommand("sessions"), "apigw-ws sessions list --connected");
  add_example(app.get_subcommand("tokens"), "apigw-ws tokens cleanup --older-than 5m");
  add_example(app.get_subcommand("history"), "apigw-ws history show chat-general");
  add_example(app.get_subcommand("users"), "apigw-ws users list");
  add_example(app.get_subcommand("jobs"), "apigw-ws jobs list");
  add_example(app.get_subcommand("api"), "apigw-ws api show --name chat");
  add_example(app.get_subcommand("domain"), "apigw-ws domain show --config api.json");
  add_example(&app, "apigw-ws --db apigw.sqlite3 migrate");
  add_example(&app,
              "apigw-ws --db apigw.sqlite3 send --all --json "
              "'{\"type\":\"system\",\"level\":\"warning\",\"message\":\"Maintenance at 22:00\"}'");
  app.footer(app.get_footer() +
             "\n\nExit status: 0 success, 1 the operation failed, 2 usage error (the command line is wrong, or a "
             "destructive command got no --yes and has no terminal to ask on).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? k_exit_ok : k_exit_usage;
  }
  try {
    return run ? run() : k_exit_usage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "apigw-ws: %s\n", e.what());
    return k_exit_failed;
  }
}
