#include "apigw/sigv4/error.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace apigw::sigv4 {
namespace {

TEST(sigv4_error, codes_map_to_shared_conditions) {
  const std::vector<std::pair<error, condition>> expected = {
      {error::invalid_request, condition::invalid_argument},
      {error::invalid_credentials, condition::invalid_argument},
      {error::missing_authorization, condition::forbidden},
      {error::malformed_authorization, condition::forbidden},
      {error::missing_date, condition::forbidden},
      {error::invalid_date, condition::forbidden},
      {error::scope_mismatch, condition::forbidden},
      {error::request_time_skewed, condition::forbidden},
      {error::unknown_access_key, condition::forbidden},
      {error::missing_security_token, condition::forbidden},
      {error::invalid_security_token, condition::forbidden},
      {error::signature_mismatch, condition::forbidden},
      {error::crypto_failure, condition::unavailable},
      {error::credentials_not_found, condition::not_found},
      {error::incomplete_credentials, condition::invalid_argument},
      {error::credentials_file_unreadable, condition::unavailable},
      {error::credentials_file_malformed, condition::invalid_argument},
      {error::region_not_found, condition::not_found},
      {error::credentials_fetch_failed, condition::unavailable},
      {error::invalid_profile, condition::invalid_argument},
  };
  for (const auto& [e, c] : expected) {
    const error_code ec = e;
    EXPECT_EQ(ec, c) << ec.message();
    EXPECT_EQ(std::string(ec.category().name()), "apigw.sigv4");
    EXPECT_NE(ec.message(), "unknown sigv4 error");
    EXPECT_FALSE(is_retryable(ec));
  }
}

TEST(sigv4_error, failure_compares_with_code_and_condition) {
  const failure f{error::signature_mismatch, "the signature does not match"};
  EXPECT_TRUE(f == error::signature_mismatch);
  EXPECT_TRUE(f == condition::forbidden);
  EXPECT_FALSE(f == condition::invalid_argument);
  EXPECT_FALSE(f == core::error::invalid_argument);
  const failure bare{error::credentials_not_found};
  EXPECT_EQ(bare.message, "no AWS credentials found");
}

}  // namespace
}  // namespace apigw::sigv4
