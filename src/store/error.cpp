// The store's error category and its mapping onto the shared conditions.
#include "apigw/store/error.hpp"

namespace apigw::store {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "apigw.store"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::duplicate_connection_id:
        return "a session with this connection id already exists";
      case error::duplicate_key:
        return "a row with this key already exists";
      case error::not_found:
        return "not found";
      case error::busy:
        return "database is locked";
      case error::unreachable:
        return "database server unreachable";
      case error::schema_missing:
        return "database schema is missing or out of date (run migrate)";
      case error::schema_too_new:
        return "database schema is newer than this program";
      case error::invalid_url:
        return "invalid database URL";
      case error::unsupported_scheme:
        return "unsupported database URL scheme";
      case error::invalid_argument:
        return "invalid argument";
      case error::constraint_violation:
        return "reference to a row that does not exist";
      case error::database_error:
        return "database error";
    }
    return "unknown store error";
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<error>(ev)) {
      case error::duplicate_connection_id:
      case error::duplicate_key:
        return condition::conflict;
      case error::not_found:
        return condition::not_found;
      case error::busy:
      case error::unreachable:
      case error::schema_missing:
      case error::schema_too_new:
      case error::database_error:
        return condition::unavailable;
      case error::invalid_url:
      case error::unsupported_scheme:
      case error::invalid_argument:
      case error::constraint_violation:
        return condition::invalid_argument;
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

}  // namespace apigw::store
