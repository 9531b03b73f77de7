#include "apigw/core/error.hpp"

#include <gtest/gtest.h>

namespace apigw {
namespace {

TEST(error, core_codes_map_to_shared_conditions) {
  EXPECT_EQ(error_code(core::error::payload_too_large), condition::payload_too_large);
  EXPECT_EQ(error_code(core::error::invalid_json), condition::invalid_argument);
  EXPECT_NE(error_code(core::error::invalid_json), condition::connection_gone);
}

TEST(error, failure_keeps_code_and_message) {
  const failure f{core::error::not_found, "no session 42"};
  EXPECT_TRUE(f == condition::not_found);
  EXPECT_TRUE(f == core::error::not_found);
  EXPECT_EQ(f.what(), "no session 42");
  const failure bare{core::error::io_error};
  EXPECT_EQ(bare.message, "I/O error");
}

TEST(error, result_value_throws_with_message) {
  result<int> r = failure{core::error::invalid_argument, "percent must be 0..100"};
  ASSERT_FALSE(r);
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const boost::system::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("percent must be 0..100"), std::string::npos);
  }
}

TEST(error, retryable_conditions) {
  EXPECT_FALSE(is_retryable(core::error::invalid_argument));
  EXPECT_FALSE(is_retryable(core::error::payload_too_large));
}

}  // namespace
}  // namespace apigw
