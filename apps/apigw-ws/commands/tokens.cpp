// apigw-ws tokens cleanup: deletes expired one-time connect tokens.
#include "cli_common.hpp"

#include <fmt/format.h>

namespace apigw::cli {

void register_tokens(CLI::App& app, const globals& g, command_runner& run) {
  auto* tokens = app.add_subcommand("tokens", "One-time connect tokens");
  tokens->require_subcommand(1);
  auto* cleanup = tokens->add_subcommand("cleanup", "Delete connect tokens (used or not) older than --older-than");
  auto older_than = std::make_shared<std::string>("5m");
  cleanup->add_option("--older-than", *older_than, "Age: 250ms, 90s, 15m, 12h, 7d")->capture_default_str();
  cleanup->callback([&g, &run, older_than] {
    run = [&g, older_than]() -> int {
      auto age = parse_duration(*older_than);
      if (!age) return fail("tokens cleanup", age.error());
      auto st = open_migrated_store(g);
      if (!st) return fail("tokens cleanup", st.error());
      auto n = (*st)->delete_tokens_older_than(system_clock_source::instance().now() - *age);
      if (!n) return fail("tokens cleanup", n.error());
      if (!g.quiet) fmt::print("deleted {} token(s) older than {}\n", *n, *older_than);
      return k_exit_ok;
    };
  });
}

}  // namespace apigw::cli
