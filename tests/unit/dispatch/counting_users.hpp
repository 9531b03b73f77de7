// counting_users.hpp: the store's users slice, forwarding every call to another store and counting
// the calls by name, so tests can prove how many queries an operation costs (e.g. the identity
// cache: a burst of messages from one user costs one user lookup). The authenticator takes only
// this slice, so the fake implements nothing else.
#pragma once

#include "apigw/store/user_repository.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace apigw::dispatch::testing_support {

class counting_users final : public store::user_repository {
 public:
  explicit counting_users(store::user_repository& inner) : inner_(inner) {}

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

 private:
  // tally: one more call of `name`.
  void tally(const char* name) {
    std::lock_guard lock(mutex_);
    ++calls_[name];
  }

  store::user_repository& inner_;
  mutable std::mutex mutex_;
  std::map<std::string, int> calls_;
};

}  // namespace apigw::dispatch::testing_support
