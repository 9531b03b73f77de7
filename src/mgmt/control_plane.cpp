// The apigatewayv2 control-plane client: rest-json requests under /v2/, SigV4 for service
// `apigateway`, nextToken pagination, botocore's error reading and a few retries on throttling
// and 5xx.
#include "apigw/mgmt/control_plane.hpp"

#include "apigw/core/json.hpp"
#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/net/error.hpp"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace apigw::mgmt {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t k_max_pages = 1000;

error classify_control_plane(std::string_view type, unsigned status) {
  if (type == "NotFoundException") return error::not_found;
  if (type == "ConflictException") return error::conflict;
  if (type == "TooManyRequestsException" || type == "LimitExceededException" || type == "ThrottlingException") {
    return error::limit_exceeded;
  }
  if (type == "AccessDeniedException" || type == "ForbiddenException" || type == "UnrecognizedClientException" ||
      type == "InvalidSignatureException" || type == "MissingAuthenticationTokenException" ||
      type == "ExpiredTokenException") {
    return error::forbidden;
  }
  if (type == "BadRequestException") return error::bad_request;
  switch (status) {
    case 404:
      return error::not_found;
    case 409:
      return error::conflict;
    case 429:
      return error::limit_exceeded;
    case 403:
      return error::forbidden;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return error::server_error;
  if (status >= 400 && status <= 499) return error::bad_request;
  return error::unexpected_status;
}

std::string message_of(std::string_view body) {
  if (body.empty()) return {};
  if (auto obj = parse_json_object(body)) {
    for (auto key : {"message", "Message"}) {
      if (auto m = get_string(*obj, key)) return std::string(*m);
    }
    return {};
  }
  std::string text(body.substr(0, 200));
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

// region_of_control_plane_host: "eu-west-1" for "apigateway.eu-west-1.amazonaws.com"; "" otherwise.
std::string region_of_control_plane_host(std::string_view host) {
  constexpr std::string_view prefix = "apigateway.";
  if (!host.starts_with(prefix)) return {};
  host.remove_prefix(prefix.size());
  const auto dot = host.find('.');
  if (dot == std::string_view::npos || !host.substr(dot + 1).starts_with("amazonaws.com")) return {};
  return std::string(host.substr(0, dot));
}

}  // namespace

std::string default_control_plane_endpoint(std::string_view region) {
  return fmt::format("https://apigateway.{}.amazonaws.com", region);
}

failure control_plane_error_from_response(const net::http_response& resp, std::string_view operation) {
  const std::string type = error_type_of(resp);
  const std::string message = message_of(resp.body);
  std::string text = fmt::format("{}: HTTP {}", operation, resp.status);
  if (type != std::to_string(resp.status)) text += " " + type;
  if (!message.empty()) text += ": " + message;
  return failure{classify_control_plane(type, resp.status), std::move(text)};
}

result<control_plane_client> control_plane_client::create(net::http_client_pool& pool, std::string_view endpoint_url,
                                                          options opts) {
  auto ep = parse_endpoint(endpoint_url);
  if (!ep) return ep.error();
  std::string region = opts.signing.region;
  if (region.empty()) region = region_of_control_plane_host(ep->origin.host);
  if (region.empty() && opts.signing.credentials) {
    return failure{error::invalid_endpoint,
                   fmt::format("cannot tell the AWS region of control-plane endpoint \"{}\"; configure the region "
                               "to sign requests",
                               ep->url)};
  }
  if (!opts.signing.credentials && !opts.signing_lookup) {
    // Signed by default: the default chain, resolved on the first call (nothing is read before).
    opts.signing_lookup =
        provider_signing(std::make_shared<credentials_provider>(default_credentials_provider_options()), region);
  }
  return control_plane_client(pool, std::move(*ep), std::move(opts), std::move(region));
}

std::chrono::milliseconds retry_pause(const control_plane_options& opts, std::string_view operation, int retry) {
  auto pause = opts.throttle_pause;
  for (int i = 0; i < retry && pause < std::chrono::hours(1); ++i) pause *= 2;
  const bool domain_operation =
      operation == "CreateDomainName" || operation == "UpdateDomainName" || operation == "DeleteDomainName";
  return domain_operation ? std::max(pause, opts.domain_pause) : pause;
}

asio::awaitable<result<json::object>> control_plane_client::call(std::string_view operation, std::string_view method,
                                                                 std::string path, std::string query,
                                                                 std::optional<object> body) {
  net::http_request req;
  req.method = std::string(method);
  req.origin = endpoint_.origin;
  const std::string wire_path = endpoint_.base_path + path;
  req.target = query.empty() ? wire_path : wire_path + "?" + query;
  req.headers.push_back({"Host", endpoint_.origin.host_header()});
  if (body) {
    req.body = json::serialize(*body);
    req.headers.push_back({"Content-Type", "application/json"});
  }
  const clock& clk = opts_.clk != nullptr ? *opts_.clk : system_clock_source::instance();
  for (int attempt = 0;; ++attempt) {
    net::http_request attempt_req = req;
    // Looked up on every try: a long apply keeps signing with refreshed credentials.
    signing_config signing = opts_.signing;
    if (!signing.credentials && opts_.signing_lookup) {
      auto looked = opts_.signing_lookup(endpoint_.url);
      if (!looked) co_return failure{error::signing_failed, fmt::format("{}: {}", operation, looked.error().message)};
      signing = std::move(*looked);
    }
    if (signing.credentials) {
      const std::string region = !signing.region.empty() ? signing.region : region_;
      if (region.empty()) {
        co_return failure{error::signing_failed,
                          fmt::format("{}: cannot tell the AWS region of control-plane endpoint \"{}\"; configure the "
                                      "region to sign requests",
                                      operation, endpoint_.url)};
      }
      sigv4::request to_sign{.method = attempt_req.method, .path = wire_path, .query = query, .body = attempt_req.body};
      for (const auto& h : attempt_req.headers) to_sign.headers.push_back({h.name, h.value});
      sigv4::signing_params params;
      params.region = region;
      params.service = "apigateway";
      params.time = clk.now();
      auto added = sigv4::sign(to_sign, *signing.credentials, params);
      if (!added) co_return failure{error::signing_failed, fmt::format("{}: {}", operation, added.error().message)};
      for (auto& h : *added) attempt_req.headers.push_back({std::move(h.name), std::move(h.value)});
    }
    if (opts_.observer) {
      opts_.observer(control_plane_request{std::string(operation), req.method, req.target, req.body});
    }
    auto resp = co_await pool_->request(std::move(attempt_req));
    if (!resp) co_return transport_failure(resp.error(), operation, req.target);
    if (resp->status >= 200 && resp->status <= 299) {
      if (resp->body.empty()) co_return object{};
      auto obj = parse_json_object(resp->body);
      if (!obj) {
        co_return failure{error::bad_response,
                          fmt::format("{}: HTTP {} with a body that is not a JSON object", operation, resp->status)};
      }
      co_return std::move(*obj);
    }
    auto f = control_plane_error_from_response(*resp, operation);
    const bool retryable =
        f.code == error::limit_exceeded || (opts_.retry_server_errors && resp->status >= 500 && resp->status <= 599);
    if (!retryable || attempt >= opts_.throttle_retries) co_return f;
    asio::steady_timer timer(co_await asio::this_coro::executor, retry_pause(opts_, operation, attempt));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<result<std::vector<json::object>>> control_plane_client::list(std::string_view operation,
                                                                              std::string path) {
  std::vector<object> items;
  std::string token;
  for (std::size_t page = 0; page < k_max_pages; ++page) {
    std::string query = token.empty() ? std::string{} : "nextToken=" + encode_label(token);
    auto r = co_await call(operation, "GET", path, std::move(query));
    if (!r) co_return r.error();
    if (const auto* arr = r->if_contains("items"); arr != nullptr && arr->is_array()) {
      for (const auto& item : arr->get_array()) {
        if (item.is_object()) items.push_back(item.get_object());
      }
    }
    const auto next = get_string(*r, "nextToken");
    if (!next || next->empty()) co_return items;
    if (*next == token) {
      co_return failure{error::bad_response, fmt::format("{}: the same nextToken came back twice", operation)};
    }
    token = std::string(*next);
  }
  co_return failure{error::bad_response, fmt::format("{}: more than {} pages", operation, k_max_pages)};
}

namespace {
std::string api_path(const std::string& api_id) {
  return "/v2/apis/" + control_plane_client::encode_label(api_id);
}
}  // namespace

asio::awaitable<result<json::object>> control_plane_client::create_api(object body) {
  return call("CreateApi", "POST", "/v2/apis", {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::get_api(std::string api_id) {
  return call("GetApi", "GET", api_path(api_id));
}
asio::awaitable<result<std::vector<json::object>>> control_plane_client::get_apis() {
  return list("GetApis", "/v2/apis");
}
asio::awaitable<result<json::object>> control_plane_client::update_api(std::string api_id, object body) {
  return call("UpdateApi", "PATCH", api_path(api_id), {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::delete_api(std::string api_id) {
  return call("DeleteApi", "DELETE", api_path(api_id));
}

asio::awaitable<result<json::object>> control_plane_client::create_integration(std::string api_id, object body) {
  return call("CreateIntegration", "POST", api_path(api_id) + "/integrations", {}, std::move(body));
}
asio::awaitable<result<std::vector<json::object>>> control_plane_client::get_integrations(std::string api_id) {
  return list("GetIntegrations", api_path(api_id) + "/integrations");
}
asio::awaitable<result<json::object>> control_plane_client::update_integration(std::string api_id,
                                                                               std::string integration_id,
                                                                               object body) {
  return call("UpdateIntegration", "PATCH", api_path(api_id) + "/integrations/" + encode_label(integration_id), {},
              std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::delete_integration(std::string api_id,
                                                                               std::string integration_id) {
  return call("DeleteIntegration", "DELETE", api_path(api_id) + "/integrations/" + encode_label(integration_id));
}

asio::awaitable<result<json::object>> control_plane_client::create_route(std::string api_id, object body) {
  return call("CreateRoute", "POST", api_path(api_id) + "/routes", {}, std::move(body));
}
asio::awaitable<result<std::vector<json::object>>> control_plane_client::get_routes(std::string api_id) {
  return list("GetRoutes", api_path(api_id) + "/routes");
}
asio::awaitable<result<json::object>> control_plane_client::update_route(std::string api_id, std::string route_id,
                                                                         object body) {
  return call("UpdateRoute", "PATCH", api_path(api_id) + "/routes/" + encode_label(route_id), {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::delete_route(std::string api_id, std::string route_id) {
  return call("DeleteRoute", "DELETE", api_path(api_id) + "/routes/" + encode_label(route_id));
}

asio::awaitable<result<json::object>> control_plane_client::create_stage(std::string api_id, object body) {
  return call("CreateStage", "POST", api_path(api_id) + "/stages", {}, std::move(body));
}
asio::awaitable<result<std::vector<json::object>>> control_plane_client::get_stages(std::string api_id) {
  return list("GetStages", api_path(api_id) + "/stages");
}
asio::awaitable<result<json::object>> control_plane_client::update_stage(std::string api_id, std::string stage_name,
                                                                         object body) {
  return call("UpdateStage", "PATCH", api_path(api_id) + "/stages/" + encode_label(stage_name), {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::create_deployment(std::string api_id, object body) {
  return call("CreateDeployment", "POST", api_path(api_id) + "/deployments", {}, std::move(body));
}

asio::awaitable<result<json::object>> control_plane_client::create_domain_name(object body) {
  return call("CreateDomainName", "POST", "/v2/domainnames", {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::get_domain_name(std::string domain_name) {
  return call("GetDomainName", "GET", "/v2/domainnames/" + encode_label(domain_name));
}
asio::awaitable<result<json::object>> control_plane_client::update_domain_name(std::string domain_name, object body) {
  return call("UpdateDomainName", "PATCH", "/v2/domainnames/" + encode_label(domain_name), {}, std::move(body));
}
asio::awaitable<result<json::object>> control_plane_client::create_api_mapping(std::string domain_name, object body) {
  return call("CreateApiMapping", "POST", "/v2/domainnames/" + encode_label(domain_name) + "/apimappings", {},
              std::move(body));
}
asio::awaitable<result<std::vector<json::object>>> control_plane_client::get_api_mappings(std::string domain_name) {
  return list("GetApiMappings", "/v2/domainnames/" + encode_label(domain_name) + "/apimappings");
}
asio::awaitable<result<json::object>> control_plane_client::update_api_mapping(std::string domain_name,
                                                                               std::string mapping_id, object body) {
  return call("UpdateApiMapping", "PATCH",
              "/v2/domainnames/" + encode_label(domain_name) + "/apimappings/" + encode_label(mapping_id), {},
              std::move(body));
}

asio::awaitable<result<json::object>> control_plane_client::tag_resource(std::string resource_arn, object tags) {
  return call("TagResource", "POST", "/v2/tags/" + encode_label(resource_arn), {},
              object{{"tags", json::value(std::move(tags))}});
}

asio::awaitable<result<json::object>> control_plane_client::untag_resource(std::string resource_arn,
                                                                           std::vector<std::string> tag_keys) {
  // A list in the query string goes as the key repeated (botocore's rest-json serializer).
  std::string query;
  for (const auto& k : tag_keys) {
    if (!query.empty()) query += '&';
    query += "tagKeys=" + encode_label(k);
  }
  return call("UntagResource", "DELETE", "/v2/tags/" + encode_label(resource_arn), std::move(query));
}

asio::awaitable<result<json::object>> control_plane_client::get_tags(std::string resource_arn) {
  return call("GetTags", "GET", "/v2/tags/" + encode_label(resource_arn));
}

}  // namespace apigw::mgmt
