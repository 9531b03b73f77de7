// examples/site/site_context.cpp: the helpers shared by the example apps.
#include "site_context.hpp"

namespace examples {

std::optional<apigw::dispatch::identity> logged_in(site_context& site, const apigw::dispatch::request& req) {
  auto who = site.auth.from_request(req);
  if (!who || !who->authenticated()) return std::nullopt;
  return *who;
}

std::optional<apigw::response> check_write(site_context& site, const apigw::dispatch::request& req,
                                           apigw::dispatch::identity& who) {
  auto user = logged_in(site, req);
  if (!user) return error_json(401, "Log in first");
  if (!site.auth.csrf_ok(req, *user)) return error_json(403, "CSRF check failed");
  who = std::move(*user);
  return std::nullopt;
}

apigw::response error_json(unsigned status, std::string_view message) {
  return apigw::response::json(status, apigw::json::object{{"error", message}});
}

}  // namespace examples
