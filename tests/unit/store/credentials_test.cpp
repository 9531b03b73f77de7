// The store suite, part two: built-in users and permissions, one-time connect tokens and
// connection attempts (rate limiting), run unchanged against SQLite and PostgreSQL.
#include "apigw/store/session_store.hpp"

#include "store_fixture.hpp"

#include <fmt/format.h>

#include <atomic>
#include <thread>
#include <vector>

namespace apigw::store::testing_support {
namespace {

using namespace std::chrono_literals;

// A 64-hex stand-in for a token hash or a session-key hash.
std::string hash_of(int n) {
  return fmt::format("{:064x}", n);
}

TEST_P(store_test, users_are_created_found_and_listed) {
  auto alice = store_->create_user("alice", "hash-a");
  ASSERT_TRUE(alice) << why(alice);
  EXPECT_GT(alice->id, 0);
  EXPECT_EQ(alice->created_at, clock_.now());
  ASSERT_TRUE(store_->create_user("bob", "hash-b"));

  auto dup = store_->create_user("alice", "other");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), condition::conflict);

  auto by_name = store_->find_user("alice");
  ASSERT_TRUE(by_name) << why(by_name);
  EXPECT_EQ(*by_name, *alice);
  auto by_id = store_->get_user(alice->id);
  ASSERT_TRUE(by_id) << why(by_id);
  EXPECT_EQ(by_id->username, "alice");
  auto id = store_->find_user_id("alice");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, alice->id);
  EXPECT_EQ(store_->find_user("carol").error(), condition::not_found);
  EXPECT_EQ(store_->get_user(alice->id + 100).error(), condition::not_found);

  auto all = store_->list_users();
  ASSERT_TRUE(all) << why(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].username, "alice");
  EXPECT_EQ((*all)[1].username, "bob");

  EXPECT_EQ(store_->create_user("", "h").error(), condition::invalid_argument);
  EXPECT_EQ(store_->create_user("x", "").error(), condition::invalid_argument);
}

TEST_P(store_test, password_hash_is_replaced) {
  auto alice = store_->create_user("alice", "old");
  ASSERT_TRUE(alice);
  ASSERT_TRUE(store_->set_password_hash(alice->id, "new"));
  EXPECT_EQ(store_->get_user(alice->id)->password_hash, "new");
  EXPECT_EQ(store_->set_password_hash(alice->id + 1, "new").error(), condition::not_found);
}

TEST_P(store_test, permissions_are_granted_and_revoked) {
  auto alice = store_->create_user("alice", "h");
  ASSERT_TRUE(alice);
  auto granted = store_->grant_permission(alice->id, "chat.post");
  ASSERT_TRUE(granted) << why(granted);
  EXPECT_TRUE(*granted);
  EXPECT_FALSE(*store_->grant_permission(alice->id, "chat.post"));
  ASSERT_TRUE(store_->grant_permission(alice->id, "admin"));
  auto perms = store_->permissions_of(alice->id);
  ASSERT_TRUE(perms) << why(perms);
  EXPECT_EQ(*perms, (std::vector<std::string>{"admin", "chat.post"}));

  EXPECT_TRUE(*store_->revoke_permission(alice->id, "admin"));
  EXPECT_FALSE(*store_->revoke_permission(alice->id, "admin"));
  EXPECT_EQ(*store_->permissions_of(alice->id), (std::vector<std::string>{"chat.post"}));

  EXPECT_EQ(store_->grant_permission(alice->id + 1, "x").error(), condition::not_found);
  EXPECT_EQ(store_->grant_permission(alice->id, "").error(), condition::invalid_argument);
  EXPECT_TRUE(store_->permissions_of(alice->id + 1)->empty());
}

TEST_P(store_test, permission_generation_moves_only_when_permissions_change) {
  auto alice = store_->create_user("alice", "h");
  ASSERT_TRUE(alice);
  const auto g0 = store_->permission_generation();
  ASSERT_TRUE(store_->grant_permission(alice->id, "chat.post"));
  const auto g1 = store_->permission_generation();
  EXPECT_GT(g1, g0);
  ASSERT_TRUE(store_->grant_permission(alice->id, "chat.post"));  // already held: no change
  ASSERT_TRUE(store_->revoke_permission(alice->id, "admin"));     // never held: no change
  (void)store_->grant_permission(alice->id + 1, "x");             // no such user
  EXPECT_EQ(store_->permission_generation(), g1);
  ASSERT_TRUE(store_->revoke_permission(alice->id, "chat.post"));
  EXPECT_GT(store_->permission_generation(), g1);
}

TEST_P(store_test, token_is_consumed_once_by_its_session_within_its_lifetime) {
  const auto issued = clock_.now();
  ASSERT_TRUE(store_->insert_token(hash_of(1), 7, hash_of(100)));
  EXPECT_EQ(store_->insert_token(hash_of(1), 8, hash_of(101)).error(), condition::conflict);
  clock_.advance(10s);

  // Another session's key, or a lifetime that started after the token: refused, token kept.
  EXPECT_EQ(store_->consume_token(hash_of(1), hash_of(101), issued).error(), condition::not_found);
  EXPECT_EQ(store_->consume_token(hash_of(1), hash_of(100), issued + 1ms).error(), condition::not_found);
  EXPECT_EQ(store_->consume_token(hash_of(2), hash_of(100), issued).error(), condition::not_found);

  auto user = store_->consume_token(hash_of(1), hash_of(100), issued);
  ASSERT_TRUE(user) << why(user);
  EXPECT_EQ(*user, 7);
  EXPECT_EQ(store_->consume_token(hash_of(1), hash_of(100), issued).error(), condition::not_found);
}

TEST_P(store_test, concurrent_consumers_of_one_token_have_exactly_one_winner) {
  // Two stores on one database: separate connections, as two backend processes would have.
  auto other = open_store(url_, clock_);
  ASSERT_TRUE(other) << why(other);
  session_store* stores[] = {store_.get(), other->get()};
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(store_->insert_token(hash_of(round), 7, hash_of(1000)));
    std::atomic<int> winners{0};
    std::atomic<int> losers{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto r = stores[t % 2]->consume_token(hash_of(round), hash_of(1000), clock_.now() - 1min);
        if (r) {
          ++winners;
        } else if (r.error() == condition::not_found) {
          ++losers;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(losers.load(), 3) << "round " << round;
  }
}

TEST_P(store_test, tokens_issued_are_counted_per_user_in_a_window) {
  ASSERT_TRUE(store_->insert_token(hash_of(1), 7, hash_of(100)));
  clock_.advance(30s);
  const auto mid = clock_.now();
  ASSERT_TRUE(store_->insert_token(hash_of(2), 7, hash_of(100)));
  ASSERT_TRUE(store_->insert_token(hash_of(3), 8, hash_of(100)));
  EXPECT_EQ(*store_->count_tokens_since(7, mid - 60s), 2);
  EXPECT_EQ(*store_->count_tokens_since(7, mid), 1);
  EXPECT_EQ(*store_->count_tokens_since(9, mid - 60s), 0);
  EXPECT_EQ(*store_->delete_tokens_older_than(mid), 1U);
}

TEST_P(store_test, connection_attempts_count_by_ip_and_user_including_failures) {
  const auto start = clock_.now();
  ASSERT_TRUE(store_->record_attempt("203.0.113.5", std::nullopt, false));
  ASSERT_TRUE(store_->record_attempt("203.0.113.5", 7, true));
  ASSERT_TRUE(store_->record_attempt("198.51.100.1", 7, false));
  clock_.advance(2min);
  ASSERT_TRUE(store_->record_attempt("203.0.113.5", std::nullopt, false));

  auto all = store_->count_attempts_since("203.0.113.5", 7, start);
  ASSERT_TRUE(all) << why(all);
  EXPECT_EQ(all->by_ip, 3);
  EXPECT_EQ(all->by_user, 2);
  auto recent = store_->count_attempts_since("203.0.113.5", std::nullopt, start + 1min);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->by_ip, 1);
  EXPECT_EQ(recent->by_user, 0);

  EXPECT_EQ(*store_->delete_attempts_older_than(start + 1min), 3U);
  EXPECT_EQ(store_->record_attempt("", std::nullopt, false).error(), condition::invalid_argument);
}

}  // namespace
}  // namespace apigw::store::testing_support
