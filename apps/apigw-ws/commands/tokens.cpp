// apigw-ws tokens cleanup: deletes expired one-time connect tokens.
#include "cli_common.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <memory>

namespace apigw::cli {

void register_tokens(CLI::App& app, const globals& g, command_runner& run) {
  auto* tokens = app.add_subcommand("tokens", "One-time connect tokens");
  tokens->require_subcommand(1);
  auto* cleanup = tokens->add_subcommand("cleanup", "Delete connect tokens (used or not) older than --older-than");
  struct cleanup_options {
    std::string older_than = "5m";
    std::string format = "text";
  };
  auto o = std::make_shared<cleanup_options>();
  cleanup->add_option("--older-than", o->older_than, "Age: 250ms, 90s, 15m, 12h, 7d")
      ->check(duration_check())
      ->capture_default_str();
  add_format_option(cleanup, o->format);
  add_example(cleanup, "apigw-ws tokens cleanup --older-than 1h");
  cleanup->callback([&g, &run, o] {
    run = [&g, o]() -> int {
      auto age = parse_duration(o->older_than);
      if (!age) return usage_error("tokens cleanup", age.error().message);
      auto st = open_migrated_store(g);
      if (!st) return fail("tokens cleanup", st.error());
      auto n = (*st)->delete_tokens_older_than(system_clock_source::instance().now() - *age);
      if (!n) return fail("tokens cleanup", n.error());
      if (o->format == "json") {
        fmt::print("{}\n", json::serialize(json::object{{"deleted", *n}}));
      } else if (!g.quiet) {
        fmt::print("deleted {} token(s) older than {}\n", *n, o->older_than);
      }
      return k_exit_ok;
    };
  });
}

}  // namespace apigw::cli
