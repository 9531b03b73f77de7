// Unit tests of the gateway configuration reader and the default dev API.
#include "apigw/gateway/config.hpp"

#include "apigw/gateway/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace apigw::gateway {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view k_minimal = R"({"apis":[{"apiId":"abc","stages":[{"stageName":"dev"}],
  "integrations":[{"integrationId":"i1","integrationUri":"http://127.0.0.1:9/x","timeoutInMillis":500}],
  "routes":[{"routeKey":"$default","target":"integrations/i1","routeResponseSelectionExpression":"$default",
             "routeResponses":[{"routeResponseKey":"$default"}]},
            {"routeKey":"oneway","target":"integrations/i1"}]}]})";

TEST(GatewayConfig, Minimal) {
  auto c = parse_gateway_config(k_minimal);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->apis.size(), 1u);
  const auto& api = c->apis[0];
  EXPECT_EQ(api.route_selection.text, "$request.body.action");
  ASSERT_NE(api.find_route("$default"), nullptr);
  EXPECT_TRUE(api.find_route("$default")->two_way);
  EXPECT_FALSE(api.find_route("oneway")->two_way);
  EXPECT_EQ(api.integration_of(*api.find_route("oneway"))->timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c->region, "us-east-1");
}

TEST(GatewayConfig, ErrorsNameTheProblem) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"apis":[]})", "at least one API"},
      {R"({"apis":[{"apiId":"a","stages":[]}]})", "at least one stage"},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}],"bogus":1}]})", "unknown member \"bogus\""},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}],"routes":[{"routeKey":"x","target":"integrations/nope"}]}]})",
       "unknown integration nope"},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}],"routes":[{"routeKey":"$custom"}]}]})",
       "must not start with '$'"},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}],"integrations":[{"integrationId":"i",
          "integrationUri":"http://h/x","timeoutInMillis":30000}]}]})",
       "50 to 29000"},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}],"integrations":[{"integrationId":"i",
          "integrationUri":"http://h/x","requestParameters":{"integration.request.header.x":"$context.connectionId"}}]}]})",
       "requestParameters value"},
      {R"({"apis":[{"apiId":"a","stages":[{"stageName":"dev"}]},{"apiId":"b","stages":[{"stageName":"dev"}]}]})",
       "already served"},
      {R"({"apis":[{"apiId":"a","routeSelectionExpression":"$request.header.x","stages":[{"stageName":"dev"}]}]})",
       "route selection expression"},
      {"not json", "top level"},
  };
  for (const auto& [text, why] : cases) {
    auto c = parse_gateway_config(text);
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.error(), error::invalid_config);
    EXPECT_THAT(c.error().message, HasSubstr(std::string(why))) << text;
  }
}

TEST(GatewayConfig, DefaultDevApi) {
  auto c = default_dev_config();
  ASSERT_EQ(c.apis.size(), 1u);
  const auto& api = c.apis[0];
  EXPECT_TRUE(api.stages.contains("dev"));
  for (std::string_view key : {"$connect", "$disconnect", "$default"}) {
    const auto* r = api.find_route(key);
    ASSERT_NE(r, nullptr) << key;
    const auto* i = api.integration_of(*r);
    ASSERT_NE(i, nullptr);
    EXPECT_EQ(i->uri, "http://127.0.0.1:8000/ws/" + std::string(key.substr(1)));
    EXPECT_EQ(i->request_parameters.at("integration.request.header.connectionId"), "context.connectionId");
    EXPECT_EQ(i->timeout, std::chrono::milliseconds(29000));
  }
  const auto* heartbeat = api.find_route("heartbeat");
  ASSERT_NE(heartbeat, nullptr);
  EXPECT_FALSE(heartbeat->two_way);
  ASSERT_NE(api.integration_of(*heartbeat), nullptr);
  EXPECT_TRUE(api.integration_of(*heartbeat)->is_mock());
}

TEST(GatewayConfig, MissingFileIsNamed) {
  auto c = load_gateway_config("/nonexistent/gw.json");
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message, HasSubstr("/nonexistent/gw.json"));
}

}  // namespace
}  // namespace apigw::gateway
