// The built-in authenticator's identity cache: a burst of messages from one logged-in user costs
// one user lookup (get_user + permissions_of), grants and revokes through the same process are seen
// at once, others within the TTL (the manual clock moves it), and the cache stays bounded. The store's
// users slice sits behind counting_users, which counts every call. Runs on SQLite and PostgreSQL.
#include "apigw/dispatch/auth.hpp"

#include "backend_fixture.hpp"
#include "counting_users.hpp"

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

// guarded_view: "staff" needs the staff permission, "admin" the admin one.
class guarded_view : public view {
 public:
  guarded_view() {
    handle("staff", [](request_context&) { return response::text(200, "staff ok"); }, {.all_of = {"staff"}});
    handle("admin", [](request_context&) { return response::text(200, "admin ok"); }, {.all_of = {"admin"}});
  }
};

class permission_cache_test : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    counting_ = std::make_unique<counting_users>(*store_);
  }

  // use_cache: the authenticator (and the backend) over the counting users slice, with this TTL and
  // capacity; then alice (staff) logged in and connected as cid(1).
  void use_cache(std::chrono::milliseconds ttl, std::size_t capacity = 10'000) {
    builtin_auth_options o{.secure_cookie = false, .fast_hashing = true};
    o.identity_cache_ttl = ttl;
    o.identity_cache_capacity = capacity;
    auth_ = std::make_unique<builtin_authenticator>(*counting_, *store_, clock_, "test secret", o);
    start(view_);
    alice_ = login("alice", {"staff"});
    alice_id_ = *store_->find_user_id("alice");
    ASSERT_EQ(gw_->connect(cid(1), {.cookie = alice_}).status, 200U);
    counting_->reset();
  }

  unsigned say(const char* handler, int c = 1) { return gw_->message(cid(c), {{"handler", handler}}).status; }
  // lookups: user lookups since the last reset (each costs get_user and permissions_of).
  int lookups() const {
    EXPECT_EQ(counting_->calls("get_user"), counting_->calls("permissions_of"));
    return counting_->calls("permissions_of");
  }

  guarded_view view_;
  std::unique_ptr<counting_users> counting_;
  std::string alice_;
  store::user_id alice_id_ = 0;
};

TEST_P(permission_cache_test, a_burst_of_messages_costs_one_lookup) {
  use_cache(5s);
  // The $connect (from the cookie) already cached alice: the burst costs nothing more.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(say("staff"), 200U);
  EXPECT_EQ(lookups(), 0);
  EXPECT_EQ(say("admin"), 403U);
  EXPECT_EQ(lookups(), 0);

  // Expired entries are looked up again, once.
  clock_.advance(5s);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(say("staff"), 200U);
  EXPECT_EQ(lookups(), 1);
}

TEST_P(permission_cache_test, grants_and_revokes_in_this_process_take_effect_at_once) {
  use_cache(1h);
  ASSERT_EQ(say("admin"), 403U);
  ASSERT_TRUE(counting_->grant_permission(alice_id_, "admin"));
  EXPECT_EQ(say("admin"), 200U) << "no waiting for the TTL";
  EXPECT_EQ(lookups(), 1);
  ASSERT_TRUE(store_->revoke_permission(alice_id_, "staff"));  // the same store object, not wrapped
  EXPECT_EQ(say("staff"), 403U);
  EXPECT_EQ(say("staff"), 403U);
  EXPECT_EQ(lookups(), 2);
}

TEST_P(permission_cache_test, a_revoke_by_another_process_takes_effect_within_the_ttl) {
  use_cache(5s);
  auto other = store::open_store(url_, clock_);  // e.g. `apigw-ws users revoke` in another process
  ASSERT_TRUE(other) << why(other);
  ASSERT_TRUE((*other)->revoke_permission(alice_id_, "staff"));
  EXPECT_EQ(say("staff"), 200U) << "stale, but only until the entry expires";
  clock_.advance(4999ms);
  EXPECT_EQ(say("staff"), 200U);
  clock_.advance(1ms);
  EXPECT_EQ(say("staff"), 403U);
  EXPECT_EQ(lookups(), 1);
}

TEST_P(permission_cache_test, forget_drops_one_user) {
  use_cache(1h);
  ASSERT_EQ(say("staff"), 200U);
  auth_->forget(alice_id_);
  ASSERT_EQ(say("staff"), 200U);
  ASSERT_EQ(say("staff"), 200U);
  EXPECT_EQ(lookups(), 1);
  auth_->forget_all();
  ASSERT_EQ(say("staff"), 200U);
  EXPECT_EQ(lookups(), 2);
}

TEST_P(permission_cache_test, zero_ttl_turns_the_cache_off) {
  use_cache(0ms);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(say("staff"), 200U);
  EXPECT_EQ(lookups(), 3);
}

TEST_P(permission_cache_test, the_cache_is_bounded) {
  use_cache(1h, 2);
  const auto bob = login("bob", {"staff"});
  const auto carol = login("carol", {"staff"});
  ASSERT_EQ(gw_->connect(cid(2), {.cookie = bob}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(3), {.cookie = carol}).status, 200U);
  counting_->reset();
  // Three users, room for two: a full cache with nothing expired is emptied, so users keep being
  // served correctly and memory stays at two entries.
  for (int round = 0; round < 2; ++round) {
    for (int c = 1; c <= 3; ++c) ASSERT_EQ(say("staff", c), 200U);
  }
  EXPECT_GE(lookups(), 3);
  EXPECT_LE(lookups(), 6);
}

INSTANTIATE_TEST_SUITE_P(dispatch, permission_cache_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support
