// apigw/store/session_store.hpp: the whole store, `session_store`, as the aggregate of its
// per-concern slices (sessions, channels, history, gateways, users, tokens, attempts, delivery jobs: one light header
// each), and `open_store`, which picks SQLite or PostgreSQL from a database URL.
//
// The API is synchronous and thread-safe: any thread may call any member at any time. Calls block on
// the database, so asynchronous code runs them on a thread pool. Every member returns a failure
// instead of throwing; the conditions a caller can act on are
//   conflict          a duplicate connection id or gateway name (nothing was overwritten)
//   not_found         no such session or gateway
//   unavailable       database locked, server unreachable, schema missing: retry or fix the setup
//   invalid_argument  a malformed URL, connection id, channel name or page size
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/attempt_repository.hpp"
#include "apigw/store/channel_repository.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/gateway_repository.hpp"
#include "apigw/store/history_repository.hpp"
#include "apigw/store/job_repository.hpp"
#include "apigw/store/login_store.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/session_query.hpp"
#include "apigw/store/session_repository.hpp"
#include "apigw/store/token_repository.hpp"
#include "apigw/store/user_repository.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// backend: which database a store talks to.
enum class backend { sqlite, postgresql };

// store_options: tuning that does not belong in the URL.
struct store_options {
  // SQLite: how long a write waits for another connection's lock before failing with busy.
  std::chrono::milliseconds busy_timeout{5000};
  // PostgreSQL: most connections kept open; callers beyond that wait for one to be returned.
  std::size_t pool_size = 4;
  // PostgreSQL: how long one connection attempt may take (unless the URL sets connect_timeout).
  std::chrono::seconds connect_timeout{5};
  // PostgreSQL: longest one statement may take. The server cancels a statement that runs longer
  // (`SET statement_timeout`; the call fails with busy); a server that does not answer at all
  // (stopped, frozen, cut off) is given up on k_statement_grace later and the connection dropped
  // (unreachable). Either way the call returns instead of hanging. 0: no limit on either side.
  std::chrono::milliseconds statement_timeout{30000};
};

// How long past statement_timeout the PostgreSQL driver waits for a server that sends nothing,
// so that a live server's own cancellation (which keeps the connection) normally arrives first.
inline constexpr std::chrono::milliseconds k_statement_grace{1000};

// migration_outcome: what migrate() did.
struct migration_outcome {
  int from_version = 0;  // schema version found (0: empty database)
  int to_version = 0;    // schema version now (k_schema_version after success)
};

// The schema version this program writes and expects.
inline constexpr int k_schema_version = 4;

// session_store: the whole store: every slice above, plus what belongs to the database as a whole
// (which one, where, its schema), and the login store's failures and revocations. One interface implemented once, in
// SQL; the SQLite and PostgreSQL stores share one schema and behave identically. Components take the slice they use (a
// session_store& converts to any of them); wiring code opens one store and passes it everywhere.
class session_store : public session_repository,
                      public channel_repository,
                      public gateway_repository,
                      public history_repository,
                      public user_repository,
                      public token_repository,
                      public attempt_repository,
                      public job_repository,
                      public login_store {
 public:
  ~session_store() override = default;

  // kind: the database behind this store.
  virtual store::backend kind() const noexcept = 0;
  // location: where the database is, for logs: a file path or a URL without its password.
  virtual std::string location() const = 0;

  // migrate: brings the schema up to k_schema_version, applying the missing migrations in one
  // transaction (safe to run again, and from several processes at once). Fails with schema_too_new
  // when the database was migrated by a newer program, leaving it untouched.
  virtual result<migration_outcome> migrate() = 0;
  // schema_version: the version recorded in the database (0 when it was never migrated).
  virtual result<int> schema_version() = 0;
};

// open_store: connects to the database named by `db_url` (without migrating it):
//   postgresql://... or postgres://...          PostgreSQL (libpq URL; password allowed)
//   sqlite:PATH, sqlite:///abs/path, or a path  SQLite (the file is created if missing)
// `clk` supplies every stored time and must outlive the store. Fails with unsupported_scheme for any
// other "scheme://" URL, invalid_url for an empty or malformed one, unreachable when the PostgreSQL
// server cannot be reached, database_error when the SQLite file cannot be opened.
result<std::unique_ptr<session_store>> open_store(std::string_view db_url, const clock& clk,
                                                  const store_options& options = {});

}  // namespace apigw::store
