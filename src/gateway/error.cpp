// Error category of the gateway module and its mapping onto the shared conditions.
#include "apigw/gateway/error.hpp"

namespace apigw::gateway {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.gateway"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::invalid_config:
        return "invalid gateway configuration";
      case error::unknown_stage:
        return "unknown stage";
      case error::connection_gone:
        return "connection gone";
      case error::payload_too_large:
        return "payload too large";
      case error::throttled:
        return "limit exceeded";
      case error::not_connections_path:
        return "not an @connections path";
      case error::integration_timeout:
        return "endpoint request timed out";
      case error::integration_failed:
        return "integration failed";
    }
    return "unknown gateway error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::invalid_config:
      case error::not_connections_path:
        return condition::invalid_argument;
      case error::unknown_stage:
        return condition::forbidden;
      case error::connection_gone:
        return condition::connection_gone;
      case error::payload_too_large:
        return condition::payload_too_large;
      case error::throttled:
        return condition::throttled;
      case error::integration_timeout:
        return condition::timeout;
      case error::integration_failed:
        return condition::server_error;
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

}  // namespace apigw::gateway
