// store/schema.hpp (private): the schema as an ordered list of migrations. One logical schema for
// both databases: each step is written once, with `{pk}` standing for the dialect's 64-bit
// auto-increment primary key, or twice where the dialects truly differ.
#pragma once

#include "store/database.hpp"

#include <span>
#include <string>
#include <string_view>

namespace apigw::store::detail {

// migration_step: one DDL statement, per dialect.
struct migration_step {
  std::string_view sqlite;
  std::string_view postgresql;
};

// migration: the steps that take the schema from version - 1 to version.
struct migration {
  int version;
  std::string_view description;
  std::span<const migration_step> steps;
};

// migrations: every migration, in version order (versions 1, 2, ... with no gaps).
std::span<const migration> migrations() noexcept;

// step_sql: the text of `step` for `d`, with {pk} expanded.
std::string step_sql(const migration_step& step, dialect d);

// The bookkeeping table: one row per applied migration.
inline constexpr std::string_view k_create_schema_version =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)";

}  // namespace apigw::store::detail
