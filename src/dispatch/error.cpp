// dispatch::error: messages and the mapping onto the shared conditions.
#include "apigw/dispatch/error.hpp"

#include <string>

namespace apigw::dispatch {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.dispatch"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::overloaded:
        return "the backend's worker queue is full";
      case error::rate_limited:
        return "too many attempts; try again later";
      case error::invalid_token:
        return "invalid or expired token";
      case error::not_authenticated:
        return "authentication required";
      case error::bad_credentials:
        return "wrong username or password";
      case error::permission_denied:
        return "permission denied";
      case error::invalid_channel:
        return "invalid channel name";
      case error::crypto_failure:
        return "cryptographic library failure";
      case error::shutting_down:
        return "the backend is shutting down";
    }
    return "unknown dispatch error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::overloaded:
      case error::rate_limited:
        return make_error_condition(condition::throttled);
      case error::invalid_token:
      case error::not_authenticated:
      case error::bad_credentials:
      case error::permission_denied:
        return make_error_condition(condition::forbidden);
      case error::invalid_channel:
        return make_error_condition(condition::invalid_argument);
      case error::crypto_failure:
      case error::shutting_down:
        return make_error_condition(condition::unavailable);
    }
    return {ev, *this};
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace apigw::dispatch
