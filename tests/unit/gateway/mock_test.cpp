// Unit tests of MOCK integrations: template selection, the status code of the request template,
// the integration response chosen for it, and the substitutions of the response template.
#include "gateway/mock.hpp"

#include <gtest/gtest.h>

namespace apigw::gateway::detail {
namespace {

mock_context context() {
  mock_context c;
  c.connection_id = "Abc123def456gh=";
  c.request_id = "Req123def456gh=";
  c.route_key = "heartbeat";
  c.event_type = "MESSAGE";
  c.api_id = "api0000001";
  c.stage = "dev";
  c.connected_at_ms = 1741168800000;
  return c;
}

integration_config mock(std::map<std::string, std::string> request_templates,
                        std::vector<integration_response_config> responses, std::string selection = "") {
  integration_config i;
  i.id = "m";
  i.type = "MOCK";
  i.request_templates = std::move(request_templates);
  i.template_selection = std::move(selection);
  i.responses = std::move(responses);
  return i;
}

TEST(GatewayMock, RenderSubstitutesContextAndInputBody) {
  const message_body m(R"({"action":"x"})");
  const auto c = context();
  EXPECT_EQ(render_template(R"({"id":"$context.connectionId","r":"${context.routeKey}"})", m, c),
            R"({"id":"Abc123def456gh=","r":"heartbeat"})");
  EXPECT_EQ(render_template("$context.stage. at $context.connectedAt", m, c), "dev. at 1741168800000");
  EXPECT_EQ(render_template("got $input.body", m, c), R"(got {"action":"x"})");
  // Anything not served is copied as written.
  EXPECT_EQ(render_template("#set($x = 1) $x $context.nosuch ${input.json('$')} $", m, c),
            "#set($x = 1) $x $context.nosuch ${input.json('$')} $");
}

TEST(GatewayMock, StatusSelectsTheIntegrationResponse) {
  const message_body m(R"({"action":"a","kind":"missing"})");
  const std::vector<integration_response_config> responses = {
      {"$default", {{"$default", "other"}}, ""},
      {"/2\\d\\d/", {{"$default", "ok $context.requestId"}}, ""},
      {"/404/", {{"$default", "missing"}}, ""},
  };
  struct row {
    std::map<std::string, std::string> templates;
    std::string selection;
    unsigned status;
    std::string body;
  };
  const row rows[] = {
      {{{"$default", R"({"statusCode": 200})"}}, "", 200, "ok Req123def456gh="},
      {{{"application/json", R"({"statusCode": 404})"}}, "\\$default", 404, "missing"},  // the only template
      {{{"missing", R"({"statusCode": 404})"}, {"$default", R"({"statusCode": 201})"}},
       "$request.body.kind",
       404,
       "missing"},
      {{{"other", R"({"statusCode": 404})"}, {"$default", R"({"statusCode": 500})"}},
       "$request.body.kind",
       500,
       "other"},
  };
  // As built in code (keys matched as written) and as read from a configuration (statuses worked
  // out once): the same answers.
  const auto read = [&] {
    auto out = responses;
    for (auto& r : out) r.statuses = integration_response_statuses(r.key);
    return out;
  }();
  for (const auto* set : {&responses, &read}) {
    for (const auto& r : rows) {
      const auto a = answer_mock(mock(r.templates, *set, r.selection), m, context());
      EXPECT_EQ(a.error, "");
      EXPECT_EQ(a.status, r.status);
      EXPECT_EQ(a.body, r.body);
    }
  }
}

TEST(GatewayMock, ResponseKeysAreWorkedOutOnceAsStatusSets) {
  const auto two = integration_response_statuses("/2\\d\\d/");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->count(), 100U);
  EXPECT_TRUE(two->test(200 - 100));
  EXPECT_TRUE(two->test(299 - 100));
  EXPECT_FALSE(two->test(300 - 100));
  const auto some = integration_response_statuses("/404|5\\d\\d/");
  ASSERT_TRUE(some);
  EXPECT_EQ(some->count(), 101U);
  // The whole code must match, as API Gateway matches it: "/20/" matches no three-digit status.
  EXPECT_EQ(integration_response_statuses("/20/")->count(), 0U);
  EXPECT_FALSE(integration_response_statuses("$default"));
  EXPECT_FALSE(integration_response_statuses("/(/"));
  // A configuration read from JSON carries them.
  auto config =
      parse_gateway_config(R"({"apis":[{"apiId":"a","name":"n","routeSelectionExpression":"$request.body.action",
    "stages":[{"stageName":"dev"}],"integrations":[{"integrationId":"m","integrationType":"MOCK",
    "requestTemplates":{"$default":"{\"statusCode\":200}"},
    "integrationResponses":[{"integrationResponseKey":"/2\\d\\d/"}]}],
    "routes":[{"routeKey":"$default","target":"integrations/m"}]}]})");
  ASSERT_TRUE(config) << config.error().message;
  const auto& responses = config->apis.at(0).integrations.at("m").responses;
  ASSERT_EQ(responses.size(), 1U);
  ASSERT_TRUE(responses[0].statuses);
  EXPECT_EQ(responses[0].statuses->count(), 100U);
}

TEST(GatewayMock, FailuresAndEmptyBodies) {
  const auto c = context();
  // No template: the message passes through and must carry statusCode itself.
  EXPECT_NE(answer_mock(mock({}, {{"$default", {}, ""}}), message_body(R"({"action":"a"})"), c).error, "");
  auto passed = answer_mock(mock({}, {{"$default", {}, ""}}), message_body(R"({"statusCode":204})"), c);
  EXPECT_EQ(passed.error, "");
  EXPECT_EQ(passed.status, 204u);
  EXPECT_EQ(passed.body, "");  // no response template: nothing to send
  // A statusCode that is not an integer, or no integration response for it.
  EXPECT_NE(
      answer_mock(mock({{"$default", R"({"statusCode": "200"})"}}, {{"$default", {}, ""}}), message_body(""), c).error,
      "");
  EXPECT_NE(
      answer_mock(mock({{"$default", R"({"statusCode": 200})"}}, {{"/4\\d\\d/", {}, ""}}), message_body(""), c).error,
      "");
  // Two templates, neither selected nor $default: passthrough of a message without statusCode.
  EXPECT_NE(
      answer_mock(mock({{"a", R"({"statusCode": 200})"}, {"b", R"({"statusCode": 200})"}}, {{"$default", {}, ""}}),
                  message_body("{}"), c)
          .error,
      "");
}

}  // namespace
}  // namespace apigw::gateway::detail
