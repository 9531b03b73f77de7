// counting_store.hpp: a session_store that forwards every call to another store and counts the
// calls by name, so tests can prove how many queries an operation costs (e.g. the identity cache:
// a burst of messages from one user costs one user lookup).
#pragma once

#include "apigw/store/session_store.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace apigw::dispatch::testing_support {

class counting_store final : public store::session_store {
 public:
  explicit counting_store(store::session_store& inner) : inner_(inner) {}

  // calls: how many times `name` ("get_user", "permissions_of"...) was called since the last reset.
  int calls(const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(name);
    return it == calls_.end() ? 0 : it->second;
  }
  void reset() {
    std::lock_guard lock(mutex_);
    calls_.clear();
  }

  store::backend kind() const noexcept override { return inner_.kind(); }
  std::string location() const override { return inner_.location(); }
  const clock& time() const noexcept override { return inner_.time(); }
  result<store::migration_outcome> migrate() override { return tally("migrate"), inner_.migrate(); }
  result<int> schema_version() override { return tally("schema_version"), inner_.schema_version(); }

  result<store::session> create_session(std::string_view connection_id, std::optional<store::user_id> user,
                                        std::optional<store::gateway_id> gateway,
                                        std::span<const std::string> channels) override {
    return tally("create_session"), inner_.create_session(connection_id, user, gateway, channels);
  }
  result<store::session> get_session(store::session_id id) override {
    return tally("get_session"), inner_.get_session(id);
  }
  result<store::session> find_session(std::string_view connection_id) override {
    return tally("find_session"), inner_.find_session(connection_id);
  }
  result<store::session> touch(std::string_view connection_id) override {
    return tally("touch"), inner_.touch(connection_id);
  }
  result<bool> join_channel(std::string_view connection_id, std::string_view channel) override {
    return tally("join_channel"), inner_.join_channel(connection_id, channel);
  }
  result<bool> leave_channel(std::string_view connection_id, std::string_view channel) override {
    return tally("leave_channel"), inner_.leave_channel(connection_id, channel);
  }
  result<std::vector<std::string>> channels_of(std::string_view connection_id) override {
    return tally("channels_of"), inner_.channels_of(connection_id);
  }
  result<std::size_t> mark_disconnected(std::span<const std::string> connection_ids) override {
    return tally("mark_disconnected"), inner_.mark_disconnected(connection_ids);
  }
  result<std::size_t> mark_gone(std::span<const std::string> connection_ids,
                                clock::time_point created_before) override {
    return tally("mark_gone"), inner_.mark_gone(connection_ids, created_before);
  }
  result<std::size_t> delete_disconnected_older_than(clock::time_point cutoff) override {
    return tally("delete_disconnected_older_than"), inner_.delete_disconnected_older_than(cutoff);
  }
  result<std::int64_t> count(const store::session_query& q) override { return tally("count"), inner_.count(q); }
  result<std::vector<store::session>> page(const store::session_query& q, store::session_id after_id,
                                           std::size_t limit) override {
    return tally("page"), inner_.page(q, after_id, limit);
  }

  result<store::gateway> upsert_gateway(const store::gateway& g) override {
    return tally("upsert_gateway"), inner_.upsert_gateway(g);
  }
  result<store::gateway> get_gateway(store::gateway_id id) override {
    return tally("get_gateway"), inner_.get_gateway(id);
  }
  result<store::gateway> find_gateway_by_api_id(std::string_view api_id) override {
    return tally("find_gateway_by_api_id"), inner_.find_gateway_by_api_id(api_id);
  }
  result<std::vector<store::gateway>> list_gateways() override {
    return tally("list_gateways"), inner_.list_gateways();
  }
  result<store::gateway> find_gateway_by_name(std::string_view name) override {
    return tally("find_gateway_by_name"), inner_.find_gateway_by_name(name);
  }
  result<bool> delete_gateway(store::gateway_id id) override {
    return tally("delete_gateway"), inner_.delete_gateway(id);
  }
  result<store::gateway_route> upsert_gateway_route(const store::gateway_route& r) override {
    return tally("upsert_gateway_route"), inner_.upsert_gateway_route(r);
  }
  result<bool> delete_gateway_route(store::gateway_id gateway, std::string_view route_key) override {
    return tally("delete_gateway_route"), inner_.delete_gateway_route(gateway, route_key);
  }
  result<std::vector<store::gateway_route>> list_gateway_routes(store::gateway_id gateway) override {
    return tally("list_gateway_routes"), inner_.list_gateway_routes(gateway);
  }
  result<std::size_t> mark_gateway_routes_deployed(store::gateway_id gateway) override {
    return tally("mark_gateway_routes_deployed"), inner_.mark_gateway_routes_deployed(gateway);
  }

  result<store::user_id> find_user_id(std::string_view username) override {
    return tally("find_user_id"), inner_.find_user_id(username);
  }
  result<store::user> create_user(std::string_view username, std::string_view password_hash) override {
    return tally("create_user"), inner_.create_user(username, password_hash);
  }
  result<store::user> get_user(store::user_id id) override { return tally("get_user"), inner_.get_user(id); }
  result<store::user> find_user(std::string_view username) override {
    return tally("find_user"), inner_.find_user(username);
  }
  result<std::vector<store::user>> list_users() override { return tally("list_users"), inner_.list_users(); }
  result<void> set_password_hash(store::user_id id, std::string_view password_hash) override {
    return tally("set_password_hash"), inner_.set_password_hash(id, password_hash);
  }
  result<bool> grant_permission(store::user_id id, std::string_view permission) override {
    return tally("grant_permission"), inner_.grant_permission(id, permission);
  }
  result<bool> revoke_permission(store::user_id id, std::string_view permission) override {
    return tally("revoke_permission"), inner_.revoke_permission(id, permission);
  }
  result<std::vector<std::string>> permissions_of(store::user_id id) override {
    return tally("permissions_of"), inner_.permissions_of(id);
  }
  std::uint64_t permission_generation() const noexcept override { return inner_.permission_generation(); }

  result<void> insert_token(std::string_view token_hash, store::user_id user,
                            std::string_view session_key_hash) override {
    return tally("insert_token"), inner_.insert_token(token_hash, user, session_key_hash);
  }
  result<store::user_id> consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                       clock::time_point not_before) override {
    return tally("consume_token"), inner_.consume_token(token_hash, session_key_hash, not_before);
  }
  result<std::int64_t> count_tokens_since(store::user_id user, clock::time_point since) override {
    return tally("count_tokens_since"), inner_.count_tokens_since(user, since);
  }
  result<std::size_t> delete_tokens_older_than(clock::time_point cutoff) override {
    return tally("delete_tokens_older_than"), inner_.delete_tokens_older_than(cutoff);
  }

  result<void> record_attempt(std::string_view ip, std::optional<store::user_id> user, bool successful) override {
    return tally("record_attempt"), inner_.record_attempt(ip, user, successful);
  }
  result<store::attempt_counts> count_attempts_since(std::string_view ip, std::optional<store::user_id> user,
                                                     clock::time_point since) override {
    return tally("count_attempts_since"), inner_.count_attempts_since(ip, user, since);
  }
  result<std::size_t> delete_attempts_older_than(clock::time_point cutoff) override {
    return tally("delete_attempts_older_than"), inner_.delete_attempts_older_than(cutoff);
  }

  result<void> record_login_failure(std::string_view username, std::string_view address,
                                    clock::time_point prune_before) override {
    return tally("record_login_failure"), inner_.record_login_failure(username, address, prune_before);
  }
  result<store::login_failure_counts> login_failures_since(std::string_view username, std::string_view address,
                                                           clock::time_point since) override {
    return tally("login_failures_since"), inner_.login_failures_since(username, address, since);
  }
  result<std::size_t> clear_login_failures(std::string_view username) override {
    return tally("clear_login_failures"), inner_.clear_login_failures(username);
  }
  result<void> revoke_session(std::string_view session_key_hash, clock::time_point expires_at) override {
    return tally("revoke_session"), inner_.revoke_session(session_key_hash, expires_at);
  }
  result<bool> is_session_revoked(std::string_view session_key_hash) override {
    return tally("is_session_revoked"), inner_.is_session_revoked(session_key_hash);
  }

 private:
  // tally: one more call of `name`.
  void tally(const char* name) {
    std::lock_guard lock(mutex_);
    ++calls_[name];
  }

  store::session_store& inner_;
  mutable std::mutex mutex_;
  std::map<std::string, int> calls_;
};

}  // namespace apigw::dispatch::testing_support
