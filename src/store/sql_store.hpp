// store/sql_store.hpp (private): session_store implemented once, in SQL, over a `database` driver.
// The SQLite and PostgreSQL stores are this class over sqlite_database and pg_database. Each slice's
// members are defined in a file of their own (sql_<slice>.cpp) over the helpers of sql_common.hpp.
#pragma once

#include "apigw/store/session_store.hpp"
#include "store/database.hpp"
#include "store/session_sql.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace apigw::store::detail {

class sql_store final : public session_store {
 public:
  sql_store(std::unique_ptr<database> db, const clock& clk) noexcept : db_(std::move(db)), clock_(clk) {}

  store::backend kind() const noexcept override;
  std::string location() const override;
  result<migration_outcome> migrate() override;
  result<int> schema_version() override;

  // session_repository (sql_sessions.cpp)
  const clock& time() const noexcept override { return clock_; }
  result<session> create_session(std::string_view connection_id, std::optional<user_id> user,
                                 std::optional<gateway_id> gateway, std::span<const std::string> channels) override;
  result<session> get_session(session_id id) override;
  result<session> find_session(std::string_view connection_id) override;
  result<session> touch(std::string_view connection_id) override;
  result<std::size_t> mark_disconnected(std::span<const std::string> connection_ids) override;
  result<std::size_t> mark_gone(std::span<const std::string> connection_ids, clock::time_point created_before) override;
  result<std::size_t> delete_disconnected_older_than(clock::time_point cutoff) override;
  result<std::int64_t> count(const session_query& q) override;
  result<std::vector<session>> page(const session_query& q, session_id after_id, std::size_t limit) override;

  // channel_repository (sql_channels.cpp)
  result<bool> join_channel(std::string_view connection_id, std::string_view channel) override;
  result<bool> leave_channel(std::string_view connection_id, std::string_view channel) override;
  result<std::vector<std::string>> channels_of(std::string_view connection_id) override;

  // history_repository (sql_history.cpp)
  result<history_position> append_history(std::string_view channel, std::string_view payload,
                                          const history_retention& keep) override;
  result<history_position> history_position_of(std::string_view channel) override;
  result<history_page> read_history(std::string_view channel, std::int64_t after, std::size_t limit,
                                    clock::time_point not_before) override;
  result<history_position> reset_history(std::string_view channel) override;
  result<std::size_t> prune_history(std::string_view pattern, const history_retention& keep) override;
  result<std::vector<std::pair<std::string, history_position>>> history_channels() override;

  // gateway_repository (sql_gateways.cpp)
  result<gateway> upsert_gateway(const gateway& g) override;
  result<gateway> get_gateway(gateway_id id) override;
  result<gateway> find_gateway_by_api_id(std::string_view api_id) override;
  result<std::vector<gateway>> list_gateways() override;
  result<gateway> find_gateway_by_name(std::string_view name) override;
  result<bool> delete_gateway(gateway_id id) override;
  result<gateway_route> upsert_gateway_route(const gateway_route& r) override;
  result<bool> delete_gateway_route(gateway_id gateway, std::string_view route_key) override;
  result<std::vector<gateway_route>> list_gateway_routes(gateway_id gateway) override;
  result<std::size_t> mark_gateway_routes_deployed(gateway_id gateway) override;

  // user_repository (sql_users.cpp)
  result<user_id> find_user_id(std::string_view username) override;
  result<user> create_user(std::string_view username, std::string_view password_hash) override;
  result<user> get_user(user_id id) override;
  result<user> find_user(std::string_view username) override;
  result<std::vector<user>> list_users() override;
  result<void> set_password_hash(user_id id, std::string_view password_hash) override;
  result<bool> grant_permission(user_id id, std::string_view permission) override;
  result<bool> revoke_permission(user_id id, std::string_view permission) override;
  result<std::vector<std::string>> permissions_of(user_id id) override;
  std::uint64_t permission_generation() const noexcept override { return permission_generation_.load(); }

  // token_repository (sql_tokens.cpp)
  result<void> insert_token(std::string_view token_hash, user_id user, std::string_view session_key_hash) override;
  result<user_id> consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                clock::time_point not_before) override;
  result<std::int64_t> count_tokens_since(user_id user, clock::time_point since) override;
  result<std::size_t> delete_tokens_older_than(clock::time_point cutoff) override;

  // attempt_repository (sql_attempts.cpp)
  result<void> record_attempt(std::string_view ip, std::optional<user_id> user, bool successful) override;
  result<attempt_counts> count_attempts_since(std::string_view ip, std::optional<user_id> user,
                                              clock::time_point since) override;
  result<std::size_t> delete_attempts_older_than(clock::time_point cutoff) override;

  // job_repository (sql_jobs.cpp)
  result<delivery_job> create_job(const new_job& job) override;
  result<delivery_job> get_job(job_id id) override;
  result<std::vector<delivery_job>> list_jobs(std::size_t limit) override;
  result<std::vector<job_page>> job_pages(job_id id) override;
  result<bool> cancel_job(job_id id) override;
  result<std::size_t> delete_finished_jobs(clock::time_point cutoff) override;
  result<std::optional<job_page_claim>> claim_page(std::string_view owner, std::chrono::milliseconds lease,
                                                   std::int64_t max_attempts) override;
  result<bool> renew_lease(const job_page_claim& claim, std::chrono::milliseconds lease) override;
  result<bool> finish_page(const job_page_claim& claim, const job_page_report& report) override;

  // login_store, in login_sql.cpp.
  result<void> record_login_failure(std::string_view username, std::string_view address,
                                    clock::time_point prune_before) override;
  result<login_failure_counts> login_failures_since(std::string_view username, std::string_view address,
                                                    clock::time_point since) override;
  result<std::size_t> clear_login_failures(std::string_view username) override;
  result<void> revoke_session(std::string_view session_key_hash, clock::time_point expires_at) override;
  result<bool> is_session_revoked(std::string_view session_key_hash) override;

  // dialect: the SQL dialect of the database underneath.
  detail::dialect dialect() const noexcept { return db_->kind(); }
  // explain: the database's plan for `st`, one line per plan node (SQLite: the details of EXPLAIN
  // QUERY PLAN; PostgreSQL: the lines of EXPLAIN). Nothing is executed.
  result<std::vector<std::string>> explain(const statement& st);
  // execute: runs `st` as is (tests use it to seed rows the API does not write, e.g. tokens).
  result<rows> execute(const statement& st);

 private:
  std::unique_ptr<database> db_;
  const clock& clock_;
  std::atomic<std::uint64_t> permission_generation_{0};
};

}  // namespace apigw::store::detail
