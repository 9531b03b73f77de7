// Tests of token_service over a fake of the store's tokens slice alone (four members): what
// reaches the store is the SHA-256 of the token and of the session key (never either value), the
// lifetime becomes the store's not_before, and the issue limit reads the count of the last minute.
#include "apigw/dispatch/tokens.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/error.hpp"
#include "apigw/sigv4/hash.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace apigw::dispatch {
namespace {

using namespace std::chrono_literals;

// token_table: an in-memory token_repository (one process, no concurrency needed here).
class token_table final : public store::token_repository {
 public:
  explicit token_table(const clock& clk) : clock_(clk) {}

  struct row {
    store::user_id user = 0;
    std::string session_key_hash;
    clock::time_point created_at;
    bool used = false;
  };
  std::map<std::string, row> rows;
  std::int64_t issued_last_minute = 0;

  result<void> insert_token(std::string_view token_hash, store::user_id user,
                            std::string_view session_key_hash) override {
    rows[std::string{token_hash}] = row{user, std::string{session_key_hash}, clock_.now(), false};
    return ok();
  }
  result<store::user_id> consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                       clock::time_point not_before) override {
    const auto it = rows.find(std::string{token_hash});
    if (it == rows.end() || it->second.used || it->second.session_key_hash != session_key_hash ||
        it->second.created_at < not_before) {
      return failure{store::error::not_found};
    }
    it->second.used = true;
    return it->second.user;
  }
  result<std::int64_t> count_tokens_since(store::user_id, clock::time_point) override { return issued_last_minute; }
  result<std::size_t> delete_tokens_older_than(clock::time_point) override { return std::size_t{0}; }

 private:
  const clock& clock_;
};

TEST(token_service, the_store_sees_only_sha256_hashes) {
  manual_clock clk;
  token_table table(clk);
  token_service tokens(table, clk);
  auto issued = tokens.issue(7, "session-key-1");
  ASSERT_TRUE(issued) << issued.error().message;
  ASSERT_TRUE(is_token_hex(issued->token));
  ASSERT_EQ(table.rows.size(), 1U);
  const auto& [hash, row] = *table.rows.begin();
  EXPECT_EQ(hash, *sigv4::sha256_hex(issued->token));
  EXPECT_NE(hash, issued->token);
  EXPECT_EQ(row.session_key_hash, *sigv4::sha256_hex("session-key-1"));
  // The known SHA-256 of "abc" (FIPS 180-2): the one hash implementation is the standard one.
  EXPECT_EQ(*sigv4::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  auto user = tokens.consume(issued->token, "session-key-1");
  ASSERT_TRUE(user);
  EXPECT_EQ(*user, 7);
  EXPECT_EQ(tokens.consume(issued->token, "session-key-1").error(), error::invalid_token) << "used once only";
}

TEST(token_service, another_session_or_an_expired_token_is_refused) {
  manual_clock clk;
  token_table table(clk);
  token_service tokens(table, clk, {.lifetime = 60s});
  auto a = tokens.issue(7, "key-a");
  auto b = tokens.issue(7, "key-a");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(tokens.consume(a->token, "key-b").error(), error::invalid_token);
  clk.advance(61s);
  EXPECT_EQ(tokens.consume(b->token, "key-a").error(), error::invalid_token);
}

TEST(token_service, the_issue_limit_reads_the_stores_count) {
  manual_clock clk;
  token_table table(clk);
  token_service tokens(table, clk, {.max_issued_per_minute = 3});
  table.issued_last_minute = 3;
  EXPECT_EQ(tokens.issue(7, "key").error(), error::rate_limited);
  EXPECT_TRUE(table.rows.empty());
  table.issued_last_minute = 2;
  EXPECT_TRUE(tokens.issue(7, "key"));
}

}  // namespace
}  // namespace apigw::dispatch
