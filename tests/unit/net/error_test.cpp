#include "apigw/net/error.hpp"

#include <gtest/gtest.h>

namespace apigw::net {
namespace {

TEST(net_error, codes_map_to_shared_conditions) {
  EXPECT_EQ(error_code(error::timeout), condition::timeout);
  EXPECT_EQ(error_code(error::connect_failed), condition::network_error);
  EXPECT_EQ(error_code(error::tls_failed), condition::network_error);
  EXPECT_EQ(error_code(error::read_failed), condition::network_error);
  EXPECT_EQ(error_code(error::invalid_url), condition::invalid_argument);
  EXPECT_EQ(error_code(error::pool_closed), condition::unavailable);
  EXPECT_TRUE(is_retryable(error::timeout));
  EXPECT_TRUE(is_retryable(error::connect_failed));
  EXPECT_FALSE(is_retryable(error::invalid_url));
  EXPECT_EQ(error_code(error::tls_failed).message(), "TLS handshake failed");
}

}  // namespace
}  // namespace apigw::net
