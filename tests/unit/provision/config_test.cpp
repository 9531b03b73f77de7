// Unit tests of api.json reading (parse_api_config): each refusal names its field, the defaults,
// and the stage settings (read, then sent whole in CreateStage). No I/O.
#include "apigw/provision/config.hpp"

#include "apigw/provision/plan.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace apigw::provision {
namespace {

namespace json = boost::json;

constexpr std::string_view k_region = "eu-west-1";

struct refusal_case {
  std::string text;
  std::string field;
};

TEST(ParseApiConfig, RefusalsNameTheField) {
  const std::vector<refusal_case> cases = {
      {R"({"target_base": "http://a/"})", "name"},
      {R"({"name": "chat"})", "target_base"},
      {R"({"name": "chat", "target_base": "ftp://a/"})", "target_base"},
      {R"({"name": "chat", "target_base": "http://a/?q=1"})", "target_base"},
      {R"({"name": "chat", "target_base": "http://a:70000/"})", "target_base"},
      {R"({"name": "chat", "target_base": "http://a/", "colour": 1})", "colour"},
      {R"({"name": "chat", "target_base": "http://a/", "stage": "$default"})", "stage"},
      {R"({"name": "chat", "target_base": "http://a/", "routes": [{"route_key": "$x", "url": "http://a/"}]})",
       "routes[0].route_key"},
      {R"({"name": "chat", "target_base": "http://a/", "routes": [{"route_key": "x"}]})", "routes[0].url"},
      {R"({"name": "chat", "target_base": "http://a/", "routes": [{"route_key": "x", "integration": "lambda"}]})",
       "routes[0].integration"},
      {R"({"name": "chat", "target_base": "http://a/",
           "routes": [{"route_key": "x", "integration": "mock", "url": "http://a/x"}]})",
       "routes[0].url"},
      {R"({"name": "chat", "target_base": "http://a/", "routes": [{"route_key": "x", "url": "http://a/x",
                                                                    "response": "{}"}]})",
       "routes[0].response"},
      {R"({"name": "chat", "target_base": "http://a/", "routes": [{"route_key": "x", "integration": "mock",
                                                                    "response": 1}]})",
       "routes[0].response"},
      {R"({"name": "chat", "target_base": "http://a/", "timeout_ms": 30000})", "timeout_ms"},
      {R"({"name": "chat", "target_base": "http://a/", "domain": {"name": "x", "certificate_arn": "arn:a"}})",
       "domain.name"},
      {R"({"name": "chat", "target_base": "http://a/", "domain": {"name": "ws.example.com",
           "certificate_arn": "arn:a", "endpoint_type": "EDGE"}})",
       "domain.endpoint_type"},
      {R"({"name": "chat", "target_base": "http://a/", "domain": {"name": "ws.example.com",
           "certificate_arn": "arn:a", "security_policy": "TLS_1_0"}})",
       "domain.security_policy"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"colour": 1}})", "stage_settings"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log": {"format": "$context.requestId"}}})",
       "stage_settings.access_log.destination_arn"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log":
           {"destination_arn": "arn:aws:s3:::bucket", "format": "$context.requestId"}}})",
       "stage_settings.access_log.destination_arn"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log":
           {"destination_arn": "arn:aws:logs:eu-west-1:1:log-group:", "format": "$context.requestId"}}})",
       "stage_settings.access_log.destination_arn"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log":
           {"destination_arn": "arn:aws:logs:eu-west-1:1:log-group:ws"}}})",
       "stage_settings.access_log.format"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log":
           {"destination_arn": "arn:aws:logs:eu-west-1:1:log-group:ws", "format": "$context.status"}}})",
       "stage_settings.access_log.format"},
      {R"({"name": "chat", "target_base": "http://a/", "stage_settings": {"access_log":
           {"destination_arn": "arn:aws:logs:eu-west-1:1:log-group:ws", "format": "$context.requestId\n"}}})",
       "stage_settings.access_log.format"},
      {R"({"name": "chat", "target_base": "http://a/",
           "stage_settings": {"default_route_settings": {"logging_level": "DEBUG"}}})",
       "stage_settings.default_route_settings.logging_level"},
      {R"({"name": "chat", "target_base": "http://a/",
           "stage_settings": {"default_route_settings": {"data_trace": "yes"}}})",
       "stage_settings.default_route_settings.data_trace"},
      {R"({"name": "chat", "target_base": "http://a/",
           "stage_settings": {"default_route_settings": {"throttling_burst_limit": 1.5}}})",
       "stage_settings.default_route_settings.throttling_burst_limit"},
      {R"({"name": "chat", "target_base": "http://a/",
           "stage_settings": {"default_route_settings": {"throttling_rate_limit": -1}}})",
       "stage_settings.default_route_settings.throttling_rate_limit"},
      {R"({"name": "chat", "target_base": "http://a/", "throttling": {"rate_limit": 1},
           "stage_settings": {"default_route_settings": {"throttling_rate_limit": 2}}})",
       "stage_settings.default_route_settings"},
      {R"({"name": "chat", "target_base": "http://a/", "keep_stages": "beta"})", "keep_stages"},
      {R"({"name": "chat", "target_base": "http://a/", "keep_stages": ["be ta"]})", "keep_stages[0]"},
      {R"({"name": "chat", "target_base": "http://a/", "keep_stages": ["production"]})", "keep_stages[0]"},
  };
  for (const auto& c : cases) {
    auto r = parse_api_config(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, core::error::invalid_config) << c.text;
    EXPECT_TRUE(r.error().message.starts_with(c.field + ":")) << c.text << " -> " << r.error().message;
  }
}

TEST(ParseApiConfig, StageSettings) {
  auto c = parse_api_config(R"({"name": "chat", "target_base": "http://a/", "keep_stages": ["beta"],
      "stage_settings": {
        "access_log": {"destination_arn": "arn:aws:logs:eu-west-1:123456789012:log-group:ws-access",
                       "format": "$context.requestId $context.routeKey $context.status"},
        "default_route_settings": {"logging_level": "ERROR", "data_trace": true, "detailed_metrics": true,
                                   "throttling_burst_limit": 200, "throttling_rate_limit": 100.5}}})");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->access_log);
  EXPECT_EQ(c->access_log->destination_arn, "arn:aws:logs:eu-west-1:123456789012:log-group:ws-access");
  EXPECT_EQ(c->access_log->format, "$context.requestId $context.routeKey $context.status");
  EXPECT_EQ(c->logging_level, "ERROR");
  EXPECT_TRUE(c->data_trace);
  EXPECT_TRUE(c->detailed_metrics);
  EXPECT_EQ(c->throttling_burst_limit, 200);
  EXPECT_EQ(c->throttling_rate_limit, 100.5);
  EXPECT_EQ(c->keep_stages, std::vector<std::string>{"beta"});
  // Nothing given: AWS's defaults, no access log, throttling left alone.
  auto d = parse_api_config(R"({"name": "chat", "target_base": "http://a/"})");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->access_log);
  EXPECT_EQ(d->logging_level, "OFF");
  EXPECT_FALSE(d->data_trace || d->detailed_metrics);
  EXPECT_FALSE(d->throttling_burst_limit || d->throttling_rate_limit);

  // A new stage gets them all in CreateStage.
  const auto ops = plan_api(*c, live_api{}, k_region);
  const auto stage =
      std::find_if(ops.begin(), ops.end(), [](const operation& o) { return o.kind == op::create_stage; });
  ASSERT_NE(stage, ops.end());
  EXPECT_EQ(
      json::serialize(stage->body),
      R"({"stageName":"production","stageVariables":{},"defaultRouteSettings":{"dataTraceEnabled":true,"detailedMetricsEnabled":true,"loggingLevel":"ERROR","throttlingBurstLimit":200,"throttlingRateLimit":1.005E2},"accessLogSettings":{"destinationArn":"arn:aws:logs:eu-west-1:123456789012:log-group:ws-access","format":"$context.requestId $context.routeKey $context.status"}})");
}

TEST(ParseApiConfig, DefaultsAndTrailingSlash) {
  auto c = parse_api_config(R"({"name": "chat", "target_base": "https://app.example.com/ws"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->target_base, "https://app.example.com/ws/");
  EXPECT_EQ(c->stage, "production");
  EXPECT_EQ(c->timeout_ms, 29000);
  const auto routes = desired_routes(*c);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[1].key, "$disconnect");
  EXPECT_EQ(member_string(routes[1].integration, "integrationUri"), "https://app.example.com/ws/disconnect");
}

TEST(ParseApiConfig, MockRoutes) {
  auto c = parse_api_config(R"({"name": "chat", "target_base": "http://a/",
                               "routes": [{"route_key": "heartbeat", "integration": "mock"},
                                          {"route_key": "ping", "integration": "mock", "response": "pong"}]})");
  ASSERT_TRUE(c) << c.error().message;
  const auto routes = desired_routes(*c);
  ASSERT_EQ(routes.size(), 5u);
  EXPECT_TRUE(routes[3].is_mock());
  EXPECT_FALSE(routes[3].two_way);
  EXPECT_EQ(member_string(routes[3].integration, "integrationType"), "MOCK");
  EXPECT_FALSE(routes[3].integration.contains("integrationUri"));
  EXPECT_FALSE(routes[3].integration_response->contains("responseTemplates"));
  EXPECT_TRUE(routes[4].two_way);
  EXPECT_EQ(routes[4].integration_response->at("responseTemplates").at("$default"), "pong");
  EXPECT_FALSE(routes[2].is_mock());
}

}  // namespace
}  // namespace apigw::provision
