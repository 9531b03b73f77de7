// Error category of the net module and its mapping onto the shared conditions.
#include "apigw/net/error.hpp"

namespace apigw::net {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.net"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::invalid_url:
        return "invalid URL";
      case error::resolve_failed:
        return "host name lookup failed";
      case error::connect_failed:
        return "connect failed";
      case error::tls_failed:
        return "TLS handshake failed";
      case error::write_failed:
        return "writing the request failed";
      case error::read_failed:
        return "reading the response failed";
      case error::timeout:
        return "timed out";
      case error::bad_response:
        return "malformed HTTP response";
      case error::pool_closed:
        return "client pool closed";
      case error::bind_failed:
        return "cannot listen";
      case error::tls_config_invalid:
        return "invalid TLS certificate or key";
    }
    return "unknown net error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::invalid_url:
      case error::tls_config_invalid:
        return condition::invalid_argument;
      case error::timeout:
        return condition::timeout;
      case error::pool_closed:
      case error::bind_failed:
        return condition::unavailable;
      case error::resolve_failed:
      case error::connect_failed:
      case error::tls_failed:
      case error::write_failed:
      case error::read_failed:
      case error::bad_response:
        return condition::network_error;
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

}  // namespace apigw::net
