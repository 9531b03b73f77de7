// Unit tests of the stage access log's $context substitution, and of the stage member that turns
// it on in the gateway's configuration.
#include "gateway/access_log.hpp"

#include "apigw/gateway/config.hpp"

#include <gtest/gtest.h>

namespace apigw::gateway::detail {
namespace {

access_log_event sample() {
  access_log_event e;
  e.event_type = "MESSAGE";
  e.request_id = "Rq1=";
  e.connection_id = "Cn1=";
  e.route_key = "chat";
  e.api_id = "a1b2c3d4e5";
  e.stage = "prod";
  e.source_ip = "127.0.0.1";
  e.status = 200;
  e.integration_status = 201;
  e.request_time = clock::time_point{std::chrono::milliseconds{1'796'540'483'123}};  // 2026-12-06T07:01:23.123Z
  e.connected_at = clock::time_point{std::chrono::milliseconds{1'796'540'400'000}};
  return e;
}

TEST(AccessLog, ContextVariablesAreSubstituted) {
  EXPECT_EQ(access_log_line("$context.requestId $context.eventType $context.routeKey $context.status", sample()),
            "Rq1= MESSAGE chat 200");
  EXPECT_EQ(access_log_line(
                R"({"id":"$context.requestId","conn":"${context.connectionId}","ip":"$context.identity.sourceIp"})",
                sample()),
            R"({"id":"Rq1=","conn":"Cn1=","ip":"127.0.0.1"})");
  EXPECT_EQ(access_log_line("[$context.requestTime] $context.requestTimeEpoch $context.connectedAt", sample()),
            "[06/Dec/2026:07:01:23 +0000] 1796540483123 1796540400000");
  EXPECT_EQ(
      access_log_line("$context.integrationStatus $context.integration.status $context.apiId/$context.stage", sample()),
      "201 201 a1b2c3d4e5/prod");
}

TEST(AccessLog, MissingAndUnknownValuesAreADash) {
  EXPECT_EQ(access_log_line("$context.identity.userAgent $context.error.message $context.nosuch", sample()), "- - -");
  auto e = sample();
  e.status = 0;
  EXPECT_EQ(access_log_line("s=$context.status.", e), "s=-.");  // a sentence's full stop is not part of the name
  EXPECT_EQ(access_log_line("$context. $context ${context.requestId", e), "$context. $context ${context.requestId");
  EXPECT_EQ(access_log_line("", e), "");
}

TEST(AccessLog, TheStageFormatIsReadFromTheConfiguration) {
  auto c = parse_gateway_config(R"({"apis": [{"apiId": "a1", "stages": [
      {"stageName": "logged", "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:1:log-group:g",
                                                    "format": "$context.requestId"}},
      {"stageName": "quiet"}]}]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->apis[0].stages.at("logged").access_log_format, "$context.requestId");
  EXPECT_EQ(c->apis[0].stages.at("quiet").access_log_format, "");
  EXPECT_FALSE(parse_gateway_config(R"({"apis": [{"apiId": "a1", "stages": [
      {"stageName": "s", "accessLogSettings": {"format": 7}}]}]})"));
}

}  // namespace
}  // namespace apigw::gateway::detail
