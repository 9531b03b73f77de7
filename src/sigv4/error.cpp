// Error category of sigv4 and its mapping onto the shared conditions.
#include "apigw/sigv4/error.hpp"

namespace apigw::sigv4 {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.sigv4"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::invalid_request:
        return "request cannot be signed";
      case error::invalid_credentials:
        return "invalid credentials";
      case error::missing_authorization:
        return "missing Authorization header";
      case error::malformed_authorization:
        return "malformed Authorization header";
      case error::missing_date:
        return "missing X-Amz-Date header";
      case error::invalid_date:
        return "invalid request date";
      case error::scope_mismatch:
        return "credential scope mismatch";
      case error::request_time_skewed:
        return "request time too skewed";
      case error::unknown_access_key:
        return "unknown access key";
      case error::missing_security_token:
        return "missing security token";
      case error::invalid_security_token:
        return "invalid security token";
      case error::signature_mismatch:
        return "signature does not match";
      case error::crypto_failure:
        return "cryptographic primitive failed";
      case error::credentials_not_found:
        return "no AWS credentials found";
      case error::incomplete_credentials:
        return "incomplete AWS credentials";
      case error::credentials_file_unreadable:
        return "AWS credentials file unreadable";
      case error::credentials_file_malformed:
        return "AWS credentials file malformed";
      case error::region_not_found:
        return "no AWS region configured";
      case error::credentials_fetch_failed:
        return "AWS credentials could not be fetched";
      case error::invalid_profile:
        return "invalid AWS profile";
    }
    return "unknown sigv4 error";
  }

  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::invalid_request:
      case error::invalid_credentials:
      case error::incomplete_credentials:
      case error::credentials_file_malformed:
      case error::invalid_profile:
        return condition::invalid_argument;
      case error::missing_authorization:
      case error::malformed_authorization:
      case error::missing_date:
      case error::invalid_date:
      case error::scope_mismatch:
      case error::request_time_skewed:
      case error::unknown_access_key:
      case error::missing_security_token:
      case error::invalid_security_token:
      case error::signature_mismatch:
        return condition::forbidden;
      case error::crypto_failure:
      case error::credentials_file_unreadable:
      case error::credentials_fetch_failed:
        return condition::unavailable;
      case error::credentials_not_found:
      case error::region_not_found:
        return condition::not_found;
    }
    return {ev, *this};
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace apigw::sigv4
