// Error categories of core: the shared conditions and core's own codes.
#include "apigw/core/error.hpp"

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace apigw {
namespace {

class condition_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw"; }
  std::string message(int ev) const override {
    switch (static_cast<condition>(ev)) {
      case condition::connection_gone:
        return "connection gone";
      case condition::forbidden:
        return "forbidden";
      case condition::payload_too_large:
        return "payload too large";
      case condition::throttled:
        return "throttled";
      case condition::server_error:
        return "server error";
      case condition::network_error:
        return "network error";
      case condition::timeout:
        return "timed out";
      case condition::invalid_argument:
        return "invalid argument";
      case condition::not_found:
        return "not found";
      case condition::conflict:
        return "conflict";
      case condition::unavailable:
        return "unavailable";
    }
    return "unknown apigw condition";
  }
};

class core_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.core"; }
  std::string message(int ev) const override {
    switch (static_cast<core::error>(ev)) {
      case core::error::invalid_argument:
        return "invalid argument";
      case core::error::payload_too_large:
        return "payload too large";
      case core::error::invalid_json:
        return "invalid JSON";
      case core::error::invalid_config:
        return "invalid configuration";
      case core::error::io_error:
        return "I/O error";
      case core::error::not_found:
        return "not found";
      case core::error::random_unavailable:
        return "secure random source unavailable";
    }
    return "unknown core error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<core::error>(ev)) {
      case core::error::invalid_argument:
      case core::error::invalid_json:
      case core::error::invalid_config:
        return condition::invalid_argument;
      case core::error::payload_too_large:
        return condition::payload_too_large;
      case core::error::io_error:
      case core::error::random_unavailable:
        return condition::unavailable;
      case core::error::not_found:
        return condition::not_found;
    }
    return {ev, *this};
  }
};

}  // namespace

const boost::system::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

boost::system::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

bool is_retryable(const error_code& ec) noexcept {
  return ec == condition::throttled || ec == condition::server_error || ec == condition::network_error ||
         ec == condition::timeout;
}

void throw_exception_from_error(const failure& f, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(f.code, f.message), loc);
}

namespace core {
const boost::system::error_category& error_category() noexcept {
  static const core_category_impl instance;
  return instance;
}
error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}
}  // namespace core

}  // namespace apigw
