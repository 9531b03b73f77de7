// apigw-ws migrate: creates or upgrades the store's schema.
#include "cli_common.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <memory>

namespace apigw::cli {

void register_migrate(CLI::App& app, const globals& g, command_runner& run) {
  auto* cmd = app.add_subcommand("migrate", "Create or upgrade the session store's schema (safe to run again)");
  auto format = std::make_shared<std::string>("text");
  add_format_option(cmd, *format);
  add_example(cmd, "APIGW_DB=postgresql://app@db.internal/app apigw-ws migrate");
  cmd->callback([&g, &run, format] {
    run = [&g, format]() -> int {
      auto st = store::open_store(g.db, system_clock_source::instance());
      if (!st) return fail("migrate", st.error());
      auto m = (*st)->migrate();
      if (!m) return fail("migrate", m.error());
      if (*format == "json") {
        fmt::print("{}\n", json::serialize(json::object{{"database", (*st)->location()},
                                                        {"from_version", m->from_version},
                                                        {"to_version", m->to_version}}));
      } else if (!g.quiet) {
        if (m->from_version == m->to_version) {
          fmt::print("{}: schema is up to date (version {})\n", (*st)->location(), m->to_version);
        } else {
          fmt::print("{}: migrated schema from version {} to {}\n", (*st)->location(), m->from_version, m->to_version);
        }
      }
      return k_exit_ok;
    };
  });
}

}  // namespace apigw::cli
