// examples/site/site_context.hpp: what every example app gets from the demo site: the backend (store,
// sessions, presence), the built-in authenticator, and small HTTP helpers for the apps' JSON APIs.
#pragma once

#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/http.hpp"

#include <optional>
#include <string>

namespace examples {

// site_context: shared by the apps; outlives them.
struct site_context {
  apigw::backend& app;
  apigw::dispatch::builtin_authenticator& auth;
};

// logged_in: the request's user, or nullopt when it carries no valid session cookie.
std::optional<apigw::dispatch::identity> logged_in(site_context& site, const apigw::dispatch::request& req);

// check_write: for a state-changing browser request: 401 without a login, 403 without the CSRF
// header, nullopt when the request may proceed (`who` is then set).
std::optional<apigw::response> check_write(site_context& site, const apigw::dispatch::request& req,
                                           apigw::dispatch::identity& who);

// error_json: {"error": message} with `status`.
apigw::response error_json(unsigned status, std::string_view message);

}  // namespace examples
