// store/pg_database.hpp (private): the PostgreSQL driver. A small pool of libpq connections, each
// with its own prepared-statement cache; a connection found broken is dropped and replaced on the
// next acquire, so the store recovers when the server comes back. Statements are bounded by
// store_options::statement_timeout, and a read the server cut off is repeated once on a new session.
#pragma once

#include "apigw/store/session_store.hpp"
#include "store/database.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace apigw::store::detail {

// open_postgresql: connects once to `url` (so an unreachable server is reported now, not at the
// first query). Fails with invalid_url when libpq cannot parse the URL, unreachable when the server
// cannot be reached or refuses the connection.
result<std::unique_ptr<database>> open_postgresql(const std::string& url, const store_options& options);

// redact_url: `url` with any password replaced by "***" (userinfo and `password=` parameters).
std::string redact_url(std::string_view url);

}  // namespace apigw::store::detail
