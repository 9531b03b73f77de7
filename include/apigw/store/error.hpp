// apigw/store/error.hpp: the store's error codes and their mapping onto the shared conditions.
//
// Callers normally test the condition (`r.error() == apigw::condition::conflict`); the store's own
// code says exactly what happened, and the failure's message names the database and the cause
// ("database is locked: /var/lib/apigw.db ...").
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::store {

// error: failures raised by the session store.
enum class error {
  duplicate_connection_id = 1,  // a session with this connection id exists (conflict)
  duplicate_key,                // another unique value exists, e.g. a gateway name (conflict)
  not_found,                    // no such session or gateway (not_found)
  busy,                         // the database is locked by another writer (unavailable)
  unreachable,                  // cannot connect to, or lost, the database server (unavailable)
  schema_missing,               // the schema is missing or older than this program: run migrate (unavailable)
  schema_too_new,               // the schema is newer than this program (unavailable)
  invalid_url,                  // a malformed database URL (invalid_argument)
  unsupported_scheme,           // a database URL with a scheme we do not serve (invalid_argument)
  invalid_argument,             // a malformed connection id, channel name, limit... (invalid_argument)
  constraint_violation,         // a reference to a row that does not exist, e.g. gateway id (invalid_argument)
  database_error,               // any other failure reported by the database (unavailable)
};

}  // namespace apigw::store

namespace boost::system {
template <>
struct is_error_code_enum<apigw::store::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::store {

// error_category: the category of store::error ("apigw.store").
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets store::error convert to apigw::error_code.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::store
