// The store suite, login part: failed logins (per name, per address, pruned to one window) and
// revoked sessions, run unchanged against SQLite and PostgreSQL.
#include "apigw/store/login_store.hpp"

#include "apigw/store/session_store.hpp"
#include "store_fixture.hpp"

#include <fmt/format.h>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

TEST_P(store_test, login_failures_are_counted_per_name_and_per_address) {
  const auto start = clock_.now();
  ASSERT_TRUE(store_->record_login_failure("alice", "10.0.0.1", start - 15min));
  clock_.advance(1s);
  ASSERT_TRUE(store_->record_login_failure("alice", "10.0.0.2", start - 15min));
  clock_.advance(1s);
  ASSERT_TRUE(store_->record_login_failure("nobody", "10.0.0.1", start - 15min));

  auto c = store_->login_failures_since("alice", "10.0.0.1", start);
  ASSERT_TRUE(c) << why(c);
  EXPECT_EQ(c->by_user, 2);
  EXPECT_EQ(c->last_by_user, start + 1s);
  EXPECT_EQ(c->by_address, 2);
  EXPECT_EQ(c->last_by_address, start + 2s);

  auto later = store_->login_failures_since("alice", "10.0.0.1", start + 1s);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->by_user, 1);
  EXPECT_EQ(later->by_address, 1);

  auto none = store_->login_failures_since("carol", "10.9.9.9", start);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->by_user, 0);
  EXPECT_EQ(none->by_address, 0);

  EXPECT_EQ(store_->record_login_failure("alice", "", start).error(), condition::invalid_argument);
}

TEST_P(store_test, clearing_a_name_keeps_the_address_failures) {
  const auto start = clock_.now();
  ASSERT_TRUE(store_->record_login_failure("alice", "10.0.0.1", start - 15min));
  ASSERT_TRUE(store_->record_login_failure("bob", "10.0.0.1", start - 15min));
  auto cleared = store_->clear_login_failures("alice");
  ASSERT_TRUE(cleared) << why(cleared);
  EXPECT_EQ(*cleared, 1U);
  auto c = store_->login_failures_since("alice", "10.0.0.1", start);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->by_user, 0);
  EXPECT_EQ(c->by_address, 1);
}

TEST_P(store_test, recording_a_failure_prunes_the_ones_before_the_window) {
  const auto start = clock_.now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->record_login_failure("alice", "10.0.0.1", start - 15min));
  clock_.advance(20min);
  ASSERT_TRUE(store_->record_login_failure("bob", "10.0.0.2", clock_.now() - 15min));
  // Counted from the epoch: only what survived the pruning is left.
  auto c = store_->login_failures_since("alice", "10.0.0.1", clock::time_point{});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->by_user, 0);
  EXPECT_EQ(c->by_address, 0);
}

TEST_P(store_test, a_revoked_session_stays_revoked_and_loses_its_unused_tokens) {
  const std::string key_hash(64, 'a');
  const std::string other_hash(64, 'b');
  ASSERT_TRUE(store_->insert_token(std::string(64, '1'), 7, key_hash));
  ASSERT_TRUE(store_->insert_token(std::string(64, '2'), 7, other_hash));
  EXPECT_FALSE(*store_->is_session_revoked(key_hash));

  ASSERT_TRUE(store_->revoke_session(key_hash, clock_.now() + 1h));
  ASSERT_TRUE(store_->revoke_session(key_hash, clock_.now() + 1h));  // twice: no error
  EXPECT_TRUE(*store_->is_session_revoked(key_hash));
  EXPECT_FALSE(*store_->is_session_revoked(other_hash));
  // The logged-out session's token is gone; the other session's still works.
  EXPECT_EQ(store_->consume_token(std::string(64, '1'), key_hash, clock_.now() - 1min).error(), condition::not_found);
  EXPECT_TRUE(store_->consume_token(std::string(64, '2'), other_hash, clock_.now() - 1min));

  EXPECT_EQ(store_->revoke_session("", clock_.now()).error(), condition::invalid_argument);
}

TEST_P(store_test, revocations_of_expired_cookies_are_pruned) {
  const std::string old_hash(64, 'c');
  ASSERT_TRUE(store_->revoke_session(old_hash, clock_.now() + 1min));
  clock_.advance(2min);
  ASSERT_TRUE(store_->revoke_session(std::string(64, 'd'), clock_.now() + 1h));
  EXPECT_FALSE(*store_->is_session_revoked(old_hash));  // the cookie itself has expired by now
}

}  // namespace
}  // namespace apigw::store::testing_support
