#include "apigw/mgmt/error.hpp"

#include <gtest/gtest.h>

namespace apigw::mgmt {
namespace {

TEST(mgmt_error, codes_map_to_shared_conditions) {
  EXPECT_EQ(error_code(error::gone), condition::connection_gone);
  EXPECT_EQ(error_code(error::forbidden), condition::forbidden);
  EXPECT_EQ(error_code(error::payload_too_large), condition::payload_too_large);
  EXPECT_EQ(error_code(error::limit_exceeded), condition::throttled);
  EXPECT_EQ(error_code(error::server_error), condition::server_error);
  EXPECT_EQ(error_code(error::network_error), condition::network_error);
  EXPECT_EQ(error_code(error::timeout), condition::timeout);
  EXPECT_EQ(error_code(error::invalid_endpoint), condition::invalid_argument);
  EXPECT_EQ(error_code(error::invalid_connection_id), condition::invalid_argument);
  EXPECT_EQ(error_code(error::bad_request), condition::invalid_argument);
}

TEST(mgmt_error, retryable_exactly_for_throttling_server_network_and_timeout) {
  EXPECT_TRUE(is_retryable(error::limit_exceeded));
  EXPECT_TRUE(is_retryable(error::server_error));
  EXPECT_TRUE(is_retryable(error::network_error));
  EXPECT_TRUE(is_retryable(error::timeout));
  EXPECT_FALSE(is_retryable(error::gone));
  EXPECT_FALSE(is_retryable(error::forbidden));
  EXPECT_FALSE(is_retryable(error::payload_too_large));
  EXPECT_FALSE(is_retryable(error::bad_request));
}

}  // namespace
}  // namespace apigw::mgmt
