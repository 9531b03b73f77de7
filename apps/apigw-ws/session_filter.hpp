// session_filter.hpp: the --session/--connection/--user/--channel/--all options shared by `send`
// and `sessions`, turned into a store::session_query.
#pragma once

#include "apigw/store/session_query.hpp"
#include "cli_common.hpp"

#include <optional>
#include <string>

namespace apigw::cli {

// resolve_user: a --user value: a user id (digits), or a name in the built-in user store.
result<store::user_id> resolve_user(store::session_store& st, const std::string& user);

struct session_filter {
  std::optional<std::int64_t> session;
  std::optional<std::string> connection;
  std::optional<std::string> user;  // a user id, or a name in the built-in user store
  std::optional<std::string> channel;
  std::optional<std::string> gateway;  // gateway name
  bool all = false;

  // add_to: declares the options on `cmd`. With `require_target`, exactly one of --session,
  // --connection, --user, --channel or --all must be given (a send to nobody is a usage error).
  void add_to(CLI::App& cmd, bool require_target);
  // query: the query these options describe; looks up --gateway by name.
  result<store::session_query> query(store::session_store& st) const;
};

}  // namespace apigw::cli
