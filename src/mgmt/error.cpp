// Error category of the mgmt module and its mapping onto the shared conditions.
#include "apigw/mgmt/error.hpp"

namespace apigw::mgmt {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.mgmt"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::gone:
        return "connection gone";
      case error::forbidden:
        return "forbidden";
      case error::payload_too_large:
        return "payload too large";
      case error::limit_exceeded:
        return "limit exceeded";
      case error::server_error:
        return "server error";
      case error::network_error:
        return "network error";
      case error::timeout:
        return "timed out";
      case error::invalid_endpoint:
        return "invalid Management API endpoint";
      case error::invalid_connection_id:
        return "invalid connection id";
      case error::bad_request:
        return "bad request";
      case error::unexpected_status:
        return "unexpected HTTP status";
      case error::bad_response:
        return "malformed response";
      case error::signing_failed:
        return "request signing failed";
      case error::not_found:
        return "not found";
      case error::conflict:
        return "conflict";
    }
    return "unknown mgmt error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::gone:
        return condition::connection_gone;
      case error::forbidden:
        return condition::forbidden;
      case error::payload_too_large:
        return condition::payload_too_large;
      case error::limit_exceeded:
        return condition::throttled;
      case error::server_error:
      case error::bad_response:
        return condition::server_error;
      case error::network_error:
        return condition::network_error;
      case error::timeout:
        return condition::timeout;
      case error::invalid_endpoint:
      case error::invalid_connection_id:
      case error::bad_request:
      case error::unexpected_status:
      case error::signing_failed:
        return condition::invalid_argument;
      case error::not_found:
        return condition::not_found;
      case error::conflict:
        return condition::conflict;
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

}  // namespace apigw::mgmt
