// apigw-ws migrate: creates or upgrades the store's schema.
#include "cli_common.hpp"

#include <fmt/format.h>

namespace apigw::cli {

void register_migrate(CLI::App& app, const globals& g, command_runner& run) {
  auto* cmd = app.add_subcommand("migrate", "Create or upgrade the session store's schema (safe to run again)");
  cmd->callback([&g, &run] {
    run = [&g]() -> int {
      auto st = store::open_store(g.db, system_clock_source::instance());
      if (!st) return fail("migrate", st.error());
      auto m = (*st)->migrate();
      if (!m) return fail("migrate", m.error());
      if (!g.quiet) {
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
