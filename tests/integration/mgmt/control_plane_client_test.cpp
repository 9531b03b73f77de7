// Integration tests of the apigatewayv2 control-plane client against a scripted HTTP server on
// 127.0.0.1: pagination (nextToken sent back as the `nextToken` query parameter, as the botocore
// model's GetApis/GetRoutes/GetIntegrations inputs place it, and every page collected), retries of
// throttling (429 TooManyRequestsException) and 5xx with a doubling pause, giving up after the
// configured tries with AWS's error type and message, and no retry for other 4xx.
#include "apigw/core/json.hpp"
#include "apigw/core/text.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "support/io_runner.hpp"
#include "support/recording_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <functional>

namespace apigw::mgmt {
namespace {

using namespace std::chrono_literals;
using testing::io_runner;
namespace json = boost::json;

// seen: one request as the scripted server received it.
using seen = testing::seen_request;

// scripted_server: the shared recording server; each test scripts AWS's answers by request index.
using scripted_server = testing::recording_server;

std::string member_string(const json::object& o, std::string_view key) {
  return std::string(get_string(o, key).value_or(""));
}

net::http_response json_response(unsigned status, const json::object& body) {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = json::serialize(body);
  return r;
}

net::http_response aws_error(unsigned status, std::string type, std::string message) {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"x-amzn-ErrorType", std::move(type)});
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = json::serialize(json::object{{"message", message}});
  return r;
}

// page: {"items":[{idKey: "<prefix><i>"} for i in [from, to)], "nextToken": next (when not empty)}.
json::object page(std::string_view id_key, std::string_view prefix, int from, int to, std::string next) {
  json::array items;
  for (int i = from; i < to; ++i) items.push_back(json::object{{id_key, fmt::format("{}{}", prefix, i)}});
  json::object o{{"items", std::move(items)}};
  if (!next.empty()) o["nextToken"] = next;
  return o;
}

// query_param: the percent-decoded value of `name` in `query` (nullopt when absent).
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      auto v = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
      return v ? std::optional<std::string>(*v) : std::nullopt;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

struct control_plane_client_test : ::testing::Test {
  io_runner io;
  net::http_client_pool pool{io.executor()};

  control_plane_client client(const scripted_server& server, control_plane_options opts = {}) {
    auto c = control_plane_client::create(pool, server.url(), std::move(opts));
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
};

// A token with characters that must be escaped in a query string ('/', '+', '=' and a space).
constexpr std::string_view k_token1 = "page 2/of+3==";
constexpr std::string_view k_token2 = "p3";

// three_pages: answers a list operation on `path` in three pages keyed by the nextToken sent.
scripted_server::answer_fn three_pages(std::string path, std::string id_key) {
  return [path, id_key](const seen& s, std::size_t) {
    if (s.method != "GET" || s.path != path) return aws_error(404, "NotFoundException", "unexpected " + s.path);
    const auto token = query_param(s.query, "nextToken");
    if (!token) return json_response(200, page(id_key, "x", 0, 2, std::string(k_token1)));
    if (*token == k_token1) return json_response(200, page(id_key, "x", 2, 5, std::string(k_token2)));
    if (*token == k_token2) return json_response(200, page(id_key, "x", 5, 6, ""));
    return aws_error(400, "BadRequestException", "Invalid nextToken " + *token);
  };
}

void expect_three_pages(const std::vector<seen>& reqs, std::string_view path) {
  ASSERT_EQ(reqs.size(), 3U);
  for (const auto& r : reqs) EXPECT_EQ(r.path, path);
  EXPECT_EQ(reqs[0].query, "");
  // Sent back exactly as botocore does: the nextToken query parameter, percent-encoded.
  EXPECT_EQ(reqs[1].query, "nextToken=page%202%2Fof%2B3%3D%3D");
  EXPECT_EQ(reqs[2].query, "nextToken=p3");
}

TEST_F(control_plane_client_test, get_routes_follows_next_token_and_collects_every_page) {
  scripted_server server(three_pages("/v2/apis/abc1234567/routes", "routeId"));
  auto c = client(server);
  auto routes = io.run(c.get_routes("abc1234567"));
  ASSERT_TRUE(routes) << routes.error().message;
  ASSERT_EQ(routes->size(), 6U);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(member_string((*routes)[i], "routeId"), fmt::format("x{}", i));
  expect_three_pages(server.requests(), "/v2/apis/abc1234567/routes");
}

TEST_F(control_plane_client_test, get_integrations_follows_next_token_and_collects_every_page) {
  scripted_server server(three_pages("/v2/apis/abc1234567/integrations", "integrationId"));
  auto c = client(server);
  auto ints = io.run(c.get_integrations("abc1234567"));
  ASSERT_TRUE(ints) << ints.error().message;
  ASSERT_EQ(ints->size(), 6U);
  EXPECT_EQ(member_string(ints->back(), "integrationId"), "x5");
  expect_three_pages(server.requests(), "/v2/apis/abc1234567/integrations");
}

TEST_F(control_plane_client_test, get_apis_follows_next_token_and_collects_every_page) {
  scripted_server server(three_pages("/v2/apis", "apiId"));
  auto c = client(server);
  auto apis = io.run(c.get_apis());
  ASSERT_TRUE(apis) << apis.error().message;
  ASSERT_EQ(apis->size(), 6U);
  EXPECT_EQ(member_string(apis->front(), "apiId"), "x0");
  expect_three_pages(server.requests(), "/v2/apis");
}

TEST_F(control_plane_client_test, a_failing_page_fails_the_list_and_a_repeated_token_is_refused) {
  {
    scripted_server server([](const seen& s, std::size_t) {
      if (s.query.empty()) return json_response(200, page("routeId", "r", 0, 1, "t1"));
      return aws_error(404, "NotFoundException", "Invalid API identifier specified abc");
    });
    auto c = client(server);
    auto r = io.run(c.get_routes("abc"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), condition::not_found);
    EXPECT_EQ(r.error().message, "GetRoutes: HTTP 404 NotFoundException: Invalid API identifier specified abc");
  }
  {
    scripted_server server(
        [](const seen&, std::size_t) { return json_response(200, page("routeId", "r", 0, 1, "same")); });
    auto c = client(server);
    auto r = io.run(c.get_routes("abc"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, error::bad_response);
    EXPECT_EQ(server.requests().size(), 2U);
  }
}

// fail_then_succeed: `failures` answers of `fail`, then the API object.
scripted_server::answer_fn fail_then_succeed(std::size_t failures, std::function<net::http_response()> fail) {
  return [failures, fail](const seen&, std::size_t index) {
    if (index < failures) return fail();
    return json_response(200, json::object{{"apiId", "abc1234567"}, {"name", "chat"}});
  };
}

net::http_response too_many() {
  return aws_error(429, "TooManyRequestsException", "Too Many Requests");
}

// expect_backoff: the gaps between consecutive tries are at least first, 2*first, 4*first...
void expect_backoff(const std::vector<seen>& reqs, std::chrono::milliseconds first) {
  auto pause = first;
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(reqs[i].at - reqs[i - 1].at);
    EXPECT_GE(gap.count(), pause.count()) << "pause before try " << i + 1;
    pause *= 2;
  }
}

TEST_F(control_plane_client_test, throttling_is_retried_with_a_doubling_pause_then_succeeds) {
  scripted_server server(fail_then_succeed(3, too_many));
  control_plane_options opts;
  opts.throttle_retries = 4;
  opts.throttle_pause = 40ms;
  auto c = client(server, opts);
  auto api = io.run(c.get_api("abc1234567"));
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_EQ(member_string(*api, "apiId"), "abc1234567");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4U);  // three 429s, then the answer
  for (const auto& r : reqs) EXPECT_EQ(r.path, "/v2/apis/abc1234567");
  expect_backoff(reqs, 40ms);  // 40, 80, 160 ms
}

TEST_F(control_plane_client_test, throttling_gives_up_after_the_configured_tries_with_type_and_message) {
  scripted_server server(fail_then_succeed(100, too_many));
  control_plane_options opts;
  opts.throttle_retries = 2;
  opts.throttle_pause = 20ms;
  std::atomic<int> observed{0};
  opts.observer = [&](const control_plane_request& r) {
    EXPECT_EQ(r.operation, "CreateDeployment");
    ++observed;
  };
  auto c = client(server, opts);
  json::object body{{"stageName", "prod"}};
  auto r = io.run(c.create_deployment("abc1234567", body));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error::limit_exceeded);
  EXPECT_EQ(r.error().message, "CreateDeployment: HTTP 429 TooManyRequestsException: Too Many Requests");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3U);                                               // the first try and two retries
  for (const auto& q : reqs) EXPECT_EQ(q.body, R"({"stageName":"prod"})");  // the same request each time
  EXPECT_EQ(observed.load(), 3);
  expect_backoff(reqs, 20ms);
}

TEST_F(control_plane_client_test, server_errors_are_retried_likewise) {
  {
    scripted_server server(
        fail_then_succeed(2, [] { return aws_error(503, "ServiceUnavailableException", "Service Unavailable"); }));
    control_plane_options opts;
    opts.throttle_pause = 30ms;
    auto c = client(server, opts);
    auto api = io.run(c.get_api("abc1234567"));
    ASSERT_TRUE(api) << api.error().message;
    const auto reqs = server.requests();
    EXPECT_EQ(reqs.size(), 3U);
    expect_backoff(reqs, 30ms);
  }
  {
    scripted_server server(
        fail_then_succeed(100, [] { return aws_error(500, "InternalServerErrorException", "Internal server error"); }));
    control_plane_options opts;
    opts.throttle_retries = 1;
    opts.throttle_pause = 10ms;
    auto c = client(server, opts);
    auto r = io.run(c.get_routes("abc1234567"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, error::server_error);
    EXPECT_EQ(r.error().message, "GetRoutes: HTTP 500 InternalServerErrorException: Internal server error");
    EXPECT_EQ(server.requests().size(), 2U);
  }
  {
    // retry_server_errors off: a 5xx is final at once (a 429 still is not).
    scripted_server server(fail_then_succeed(1, [] { return aws_error(502, "BadGatewayException", "Bad gateway"); }));
    control_plane_options opts;
    opts.retry_server_errors = false;
    opts.throttle_pause = 10ms;
    auto c = client(server, opts);
    auto r = io.run(c.get_api("abc1234567"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, error::server_error);
    EXPECT_EQ(server.requests().size(), 1U);
  }
}

TEST_F(control_plane_client_test, other_client_errors_are_not_retried) {
  struct {
    unsigned status;
    const char* type;
    const char* message;
    error code;
  } const cases[] = {
      {404, "NotFoundException", "Invalid API identifier specified abc1234567", error::not_found},
      {409, "ConflictException", "Route key chat already exists", error::conflict},
      {400, "BadRequestException", "Invalid stage name", error::bad_request},
      {403, "AccessDeniedException", "User is not authorized", error::forbidden},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.type);
    const unsigned status = k.status;
    const std::string type = k.type;
    const std::string message = k.message;
    scripted_server server(fail_then_succeed(100, [=] { return aws_error(status, type, message); }));
    control_plane_options opts;
    opts.throttle_pause = 10ms;
    auto c = client(server, opts);
    auto r = io.run(c.get_api("abc1234567"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, k.code);
    EXPECT_EQ(r.error().message, fmt::format("GetApi: HTTP {} {}: {}", status, type, message));
    EXPECT_EQ(server.requests().size(), 1U);
  }
}

TEST_F(control_plane_client_test, tag_calls_have_the_model_shapes) {
  scripted_server server([](const seen& s, std::size_t) {
    net::http_response r;
    if (s.method == "DELETE") {
      r.status = 204;
      return r;
    }
    if (s.method == "GET") return json_response(200, json::object{{"tags", json::object{{"a", "1"}}}});
    return json_response(201, json::object{});
  });
  auto c = client(server);
  const std::string arn = "arn:aws:apigateway:us-east-1::/apis/abc1234567";
  auto untagged = io.run(c.untag_resource(arn, {"team", "cost center"}));
  ASSERT_TRUE(untagged) << untagged.error().message;
  json::object add{{"env", "prod"}};
  ASSERT_TRUE(io.run(c.tag_resource(arn, add)));
  auto tags = io.run(c.get_tags(arn));
  ASSERT_TRUE(tags) << tags.error().message;
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3U);
  const std::string path = "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc1234567";
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].path, path);
  EXPECT_EQ(reqs[0].query, "tagKeys=team&tagKeys=cost%20center");  // a list: the key repeated
  EXPECT_EQ(reqs[0].body, "");
  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].body, R"({"tags":{"env":"prod"}})");
  EXPECT_EQ(reqs[2].method, "GET");
  EXPECT_EQ(reqs[2].path, path);
}

}  // namespace
}  // namespace apigw::mgmt
