// open_store: which URLs select which database, and what a bad or unreachable one looks like.
#include "apigw/store/session_store.hpp"

#include "store/pg_database.hpp"
#include "support/pg_server.hpp"

#include <gtest/gtest.h>

namespace apigw::store {
namespace {

using namespace std::chrono_literals;

TEST(open_store, unknown_scheme_is_a_clear_error) {
  manual_clock clock;
  for (const char* url : {"mysql://app:secret@db.example.com/apigw", "http://127.0.0.1/db", "redis://x"}) {
    auto opened = open_store(url, clock);
    ASSERT_FALSE(opened) << url;
    EXPECT_EQ(opened.error(), error::unsupported_scheme);
    EXPECT_EQ(opened.error(), condition::invalid_argument);
    EXPECT_NE(opened.error().message.find("unsupported database URL scheme"), std::string::npos);
    EXPECT_NE(opened.error().message.find("postgresql://"), std::string::npos) << "should say what works";
    EXPECT_EQ(opened.error().message.find("secret"), std::string::npos) << "leaks the password";
  }
}

TEST(open_store, malformed_urls_are_invalid) {
  manual_clock clock;
  for (const char* url : {"", "sqlite:", "sqlite://relative/path.db"}) {
    auto opened = open_store(url, clock);
    ASSERT_FALSE(opened) << url;
    EXPECT_EQ(opened.error(), error::invalid_url) << url;
    EXPECT_EQ(opened.error(), condition::invalid_argument);
  }
  auto bad_pg = open_store("postgresql://[::1/db", clock);
  ASSERT_FALSE(bad_pg);
  EXPECT_EQ(bad_pg.error(), condition::invalid_argument) << bad_pg.error().message;
}

TEST(open_store, unreachable_postgresql_is_a_clear_error) {
  manual_clock clock;
  store_options options;
  options.connect_timeout = 2s;
  const auto url = test::pg_server::unused_port_url();
  auto opened = open_store(url, clock, options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), error::unreachable);
  EXPECT_EQ(opened.error(), condition::unavailable);
  EXPECT_NE(opened.error().message.find("cannot connect to PostgreSQL"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("127.0.0.1"), std::string::npos) << opened.error().message;

  auto with_password = open_store("postgres://app:hunter2@127.0.0.1:1/apigw", clock, options);
  ASSERT_FALSE(with_password);
  EXPECT_EQ(with_password.error(), error::unreachable);
  EXPECT_EQ(with_password.error().message.find("hunter2"), std::string::npos) << with_password.error().message;
}

TEST(open_store, redact_url_hides_passwords) {
  EXPECT_EQ(detail::redact_url("postgresql://app:s3cret@db:5432/apigw"), "postgresql://app:***@db:5432/apigw");
  EXPECT_EQ(detail::redact_url("postgresql://app@db/apigw"), "postgresql://app@db/apigw");
  EXPECT_EQ(detail::redact_url("postgresql://db/apigw?user=a&password=x&sslmode=require"),
            "postgresql://db/apigw?user=a&password=***&sslmode=require");
  EXPECT_EQ(detail::redact_url("postgresql://u:p@ss@db/x"), "postgresql://u:***@db/x");
}

}  // namespace
}  // namespace apigw::store
