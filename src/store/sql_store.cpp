// The SQL store as a whole: which database, the schema version and migrations, and the test hooks
// (explain, execute). The slices are implemented beside it, one file each (sql_sessions.cpp,
// sql_channels.cpp, sql_gateways.cpp, sql_users.cpp, sql_tokens.cpp, sql_attempts.cpp), all over
// the same `database` driver and sharing sql_common.hpp.
#include "store/sql_store.hpp"

#include "store/schema.hpp"
#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {

store::backend sql_store::kind() const noexcept {
  return db_->kind() == dialect::sqlite ? backend::sqlite : backend::postgresql;
}

std::string sql_store::location() const {
  return db_->location();
}

result<int> sql_store::schema_version() {
  return with_connection(*db_, [&](connection& c) -> result<int> {
    auto has = c.exec(db_->kind() == dialect::sqlite ? sql::sqlite_has_schema_version : sql::pg_has_schema_version, {});
    if (!has) return has.error();
    if (cell_int(*has, 0, 0) == 0) return 0;
    auto version = c.exec(sql::schema_version_max, {});
    if (!version) return version.error();
    return static_cast<int>(cell_int(*version, 0, 0));
  });
}

result<migration_outcome> sql_store::migrate() {
  const auto d = db_->kind();
  return with_connection(*db_, [&](connection& c) {
    return in_transaction(c, [&]() -> result<migration_outcome> {
      if (d == dialect::postgresql) {
        if (auto locked = c.run(sql::pg_migration_lock, {}); !locked) return locked.error();
      }
      if (auto created = c.run(k_create_schema_version, {}); !created) return created.error();
      auto current = c.run(sql::schema_version_max, {});
      if (!current) return current.error();
      migration_outcome outcome;
      outcome.from_version = static_cast<int>(cell_int(*current, 0, 0));
      if (outcome.from_version > k_schema_version) {
        return failure{error::schema_too_new,
                       fmt::format("database {} has schema version {}; this program knows versions up to {}",
                                   db_->location(), outcome.from_version, k_schema_version)};
      }
      const auto now = unix_millis(clock_.now());
      for (const auto& m : migrations()) {
        if (m.version <= outcome.from_version) continue;
        for (const auto& step : m.steps) {
          if (auto r = c.run(step_sql(step, d), {}); !r) return r.error();
        }
        const param params[] = {std::int64_t{m.version}, std::string{m.description}, now};
        if (auto r = c.run(sql::insert_schema_version, params); !r) return r.error();
      }
      outcome.to_version = k_schema_version;
      return outcome;
    });
  });
}

result<std::vector<std::string>> sql_store::explain(const statement& st) {
  const bool sqlite = db_->kind() == dialect::sqlite;
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::string>> {
    auto r = c.run((sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + st.sql, st.params);
    if (!r) return r.error();
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < r->size(); ++i) lines.push_back(cell_text(*r, i, sqlite ? 3 : 0));
    return lines;
  });
}

result<rows> sql_store::execute(const statement& st) {
  return with_connection(*db_, [&](connection& c) { return c.run(st.sql, st.params); });
}

}  // namespace apigw::store::detail
