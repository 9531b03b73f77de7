// Shared pieces of the apigw-ws commands.
#include "cli_common.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>

namespace apigw::cli {

result<std::unique_ptr<store::session_store>> open_migrated_store(const globals& g, bool migrate) {
  auto st = store::open_store(g.db, system_clock_source::instance());
  if (!st) return st.error();
  if (migrate) {
    auto m = (*st)->migrate();
    if (!m) return m.error();
    return st;
  }
  auto v = (*st)->schema_version();
  if (!v) return v.error();
  if (*v != store::k_schema_version) {
    return failure{*v < store::k_schema_version ? store::error::schema_missing : store::error::schema_too_new,
                   fmt::format("database {} has schema version {} but this program needs {}: run `apigw-ws --db {} "
                               "migrate` first",
                               (*st)->location(), *v, store::k_schema_version, g.db)};
  }
  return st;
}

result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using namespace std::chrono;
  std::int64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc{} || p == begin || n < 0) {
    return failure{
        core::error::invalid_argument,
        fmt::format("invalid duration \"{}\": expected a number and a unit (250ms, 90s, 15m, 12h, 7d)", text)};
  }
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  if (unit == "ms") return milliseconds{n};
  if (unit.empty() || unit == "s") return duration_cast<milliseconds>(seconds{n});
  if (unit == "m") return duration_cast<milliseconds>(minutes{n});
  if (unit == "h") return duration_cast<milliseconds>(hours{n});
  if (unit == "d") return duration_cast<milliseconds>(hours{24 * n});
  return failure{core::error::invalid_argument,
                 fmt::format("invalid duration \"{}\": unknown unit \"{}\" (use ms, s, m, h or d)", text, unit)};
}

int fail(std::string_view what, const failure& f) {
  std::fprintf(stderr, "apigw-ws: %.*s: %s\n", static_cast<int>(what.size()), what.data(), f.message.c_str());
  return k_exit_failed;
}

}  // namespace apigw::cli
