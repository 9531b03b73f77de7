#include "apigw/store/error.hpp"

#include <gtest/gtest.h>

namespace apigw::store {
namespace {

TEST(store_error, codes_map_to_shared_conditions) {
  EXPECT_EQ(error_code(error::duplicate_connection_id), condition::conflict);
  EXPECT_EQ(error_code(error::duplicate_key), condition::conflict);
  EXPECT_EQ(error_code(error::not_found), condition::not_found);
  EXPECT_EQ(error_code(error::busy), condition::unavailable);
  EXPECT_EQ(error_code(error::unreachable), condition::unavailable);
  EXPECT_EQ(error_code(error::schema_missing), condition::unavailable);
  EXPECT_EQ(error_code(error::schema_too_new), condition::unavailable);
  EXPECT_EQ(error_code(error::database_error), condition::unavailable);
  EXPECT_EQ(error_code(error::invalid_url), condition::invalid_argument);
  EXPECT_EQ(error_code(error::unsupported_scheme), condition::invalid_argument);
  EXPECT_EQ(error_code(error::invalid_argument), condition::invalid_argument);
  EXPECT_EQ(error_code(error::constraint_violation), condition::invalid_argument);
  EXPECT_NE(error_code(error::busy), condition::conflict);
}

TEST(store_error, busy_says_locked_and_is_not_retried_blindly) {
  const failure f{error::busy};
  EXPECT_EQ(f.message, "database is locked");
  EXPECT_TRUE(f == condition::unavailable);
  EXPECT_FALSE(is_retryable(f.code));
  EXPECT_STREQ(error_category().name(), "apigw.store");
}

}  // namespace
}  // namespace apigw::store
