// Unit tests of the apigatewayv2 control-plane subset (spec §6): defaults, errors, and the
// configuration it serves.
#include "gateway/control_plane.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace apigw::gateway::detail {
namespace {

using ::testing::HasSubstr;

const clock::time_point k_now{std::chrono::seconds{1'741'168'800}};

struct cp_fixture {
  control_plane cp{default_dev_config(), k_now};

  json::object call(std::string_view method, std::string_view target, std::string_view body, unsigned expect) {
    auto a = cp.handle(method, target, body, k_now);
    EXPECT_EQ(a.response.status, expect) << method << " " << target << ": " << a.response.body;
    if (a.response.body.empty()) return {};
    auto o = parse_json_object(a.response.body);
    return o ? *o : json::object{};
  }
};

std::string error_type(const net::http_response& r) {
  return std::string(net::find_header(r.headers, "x-amzn-ErrorType").value_or(""));
}

TEST(ControlPlane, InitialConfigIsListed) {
  cp_fixture f;
  auto apis = f.call("GET", "/v2/apis", "", 200);
  ASSERT_EQ(apis["items"].as_array().size(), 1u);
  EXPECT_EQ(apis["items"].as_array()[0].as_object().at("apiId"), "devapi0001");
  auto routes = f.call("GET", "/v2/apis/devapi0001/routes", "", 200);
  EXPECT_EQ(routes["items"].as_array().size(), 4u);  // $connect, $disconnect, $default, heartbeat (MOCK)
}

TEST(ControlPlane, InitialApisAreDatedWithTheTimeGiven) {
  // The configured APIs and stages are created at the time the caller passes, not at whatever the
  // system clock says, so what they answer is reproducible.
  const clock::time_point created{std::chrono::seconds{1'600'000'000}};
  control_plane cp{default_dev_config(), created};
  const auto api = parse_json_object(cp.handle("GET", "/v2/apis/devapi0001", "", k_now).response.body);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->at("createdDate"), "2020-09-13T12:26:40.000Z");
  const auto stage = parse_json_object(cp.handle("GET", "/v2/apis/devapi0001/stages/dev", "", k_now).response.body);
  ASSERT_TRUE(stage);
  EXPECT_EQ(stage->at("createdDate"), "2020-09-13T12:26:40.000Z");
  EXPECT_EQ(stage->at("lastUpdatedDate"), "2020-09-13T12:26:40.000Z");
}

TEST(ControlPlane, CreateApiWithWebsocketDefaults) {
  cp_fixture f;
  auto api =
      f.call("POST", "/v2/apis",
             R"({"name":"chat","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"})", 201);
  const std::string id(api.at("apiId").as_string());
  EXPECT_EQ(id.size(), 10u);
  EXPECT_EQ(api.at("apiEndpoint").as_string(), "wss://" + id + ".execute-api.us-east-1.amazonaws.com");
  EXPECT_EQ(api.at("apiKeySelectionExpression"), "$request.header.x-api-key");
  EXPECT_EQ(api.at("createdDate"), "2025-03-05T10:00:00.000Z");
  EXPECT_EQ(api.at("disableExecuteApiEndpoint"), false);
  auto integ = f.call("POST", "/v2/apis/" + id + "/integrations",
                      R"({"integrationType":"HTTP","integrationUri":"http://h/x","integrationMethod":"POST"})", 201);
  EXPECT_EQ(integ.at("timeoutInMillis"), 29000);
  EXPECT_EQ(integ.at("passthroughBehavior"), "WHEN_NO_MATCH");
  EXPECT_EQ(integ.at("integrationResponseSelectionExpression"), "${integration.response.statuscode}");
}

TEST(ControlPlane, ServedConfigFollowsChanges) {
  cp_fixture f;
  auto api = f.call("POST", "/v2/apis",
                    R"({"name":"n","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.a"})", 201);
  const std::string base = "/v2/apis/" + std::string(api.at("apiId").as_string());
  EXPECT_EQ(f.cp.build().apis.size(), 1u);  // no stage yet: not served
  auto integ = f.call("POST", base + "/integrations",
                      R"({"integrationType":"HTTP_PROXY","integrationUri":"http://127.0.0.1:1/x"})", 201);
  auto route = f.call("POST", base + "/routes",
                      R"({"routeKey":"go","routeResponseSelectionExpression":"$default","target":"integrations/)" +
                          std::string(integ.at("integrationId").as_string()) + R"("})",
                      201);
  f.call("POST", base + "/routes/" + std::string(route.at("routeId").as_string()) + "/routeresponses",
         R"({"routeResponseKey":"$default"})", 201);
  f.call("POST", base + "/stages", R"({"stageName":"live","stageVariables":{"v":"1"}})", 201);
  auto cfg = f.cp.build();
  ASSERT_EQ(cfg.apis.size(), 2u);
  const api_config* served = nullptr;
  for (const auto& a : cfg.apis) {
    if (a.stages.contains("live")) served = &a;
  }
  ASSERT_NE(served, nullptr);
  ASSERT_NE(served->find_route("go"), nullptr);
  EXPECT_TRUE(served->find_route("go")->two_way);
  EXPECT_EQ(served->stages.at("live").variables.at("v"), "1");
}

TEST(ControlPlane, Errors) {
  cp_fixture f;
  auto r = f.cp.handle("POST", "/v2/apis", R"({"name":"x","protocolType":"WEBSOCKET"})", k_now);
  EXPECT_EQ(r.response.status, 400u);
  EXPECT_EQ(error_type(r.response), "BadRequestException");
  r = f.cp.handle("POST", "/v2/apis", R"({"name":"x","protocolType":"HTTP"})", k_now);
  EXPECT_EQ(r.response.status, 400u);
  r = f.cp.handle("POST", "/v2/apis", "{not json", k_now);
  EXPECT_EQ(error_type(r.response), "BadRequestException");
  r = f.cp.handle("GET", "/v2/apis/nope", "", k_now);
  EXPECT_EQ(r.response.status, 404u);
  EXPECT_EQ(error_type(r.response), "NotFoundException");
  EXPECT_THAT(r.response.body, HasSubstr(R"("resourceType":"API")"));
  r = f.cp.handle("POST", "/v2/apis/devapi0001/routes", R"({"routeKey":"$default"})", k_now);
  EXPECT_EQ(r.response.status, 409u);
  EXPECT_EQ(error_type(r.response), "ConflictException");
  r = f.cp.handle("POST", "/v2/apis/devapi0001/stages", R"({"stageName":"dev"})", k_now);
  EXPECT_EQ(r.response.status, 409u);
  r = f.cp.handle("POST", "/v2/apis/devapi0001/integrations",
                  R"({"integrationType":"HTTP_PROXY","integrationUri":"ftp://x/"})", k_now);
  EXPECT_EQ(r.response.status, 400u);  // refused by the served-configuration check, rolled back
  EXPECT_EQ(f.call("GET", "/v2/apis/devapi0001/integrations", "", 200)["items"].as_array().size(), 4u);
}

TEST(ControlPlane, SaveAndLoadRoundTrip) {
  cp_fixture f;
  auto api = f.call("POST", "/v2/apis",
                    R"({"name":"n","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.a"})", 201);
  const std::string id(api.at("apiId").as_string());
  f.call("POST", "/v2/apis/" + id + "/stages", R"({"stageName":"saved"})", 201);
  const std::string saved = f.cp.save();

  control_plane other{gateway_config{}, k_now};
  ASSERT_TRUE(other.load(saved));
  EXPECT_EQ(other.save(), saved);
  EXPECT_EQ(other.build().apis.size(), 2u);
}

TEST(ControlPlane, MockIntegrationsAreServedAndSurviveTheStateFile) {
  cp_fixture f;
  auto api =
      f.call("POST", "/v2/apis",
             R"({"name":"m","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"})", 201);
  const std::string base = "/v2/apis/" + std::string(api.at("apiId").as_string());
  auto integ = f.call("POST", base + "/integrations",
                      R"({"integrationType":"MOCK","requestTemplates":{"$default":"{\"statusCode\": 200}"},)"
                      R"("templateSelectionExpression":"\\$default"})",
                      201);
  EXPECT_FALSE(integ.contains("integrationUri"));
  EXPECT_EQ(integ.at("passthroughBehavior"), "WHEN_NO_MATCH");
  const std::string integ_path = base + "/integrations/" + std::string(integ.at("integrationId").as_string());
  auto ir = f.call("POST", integ_path + "/integrationresponses",
                   R"({"integrationResponseKey":"/2\\d\\d/","responseTemplates":{"$default":"pong"}})", 201);
  EXPECT_EQ(ir.at("integrationResponseKey"), "/2\\d\\d/");
  EXPECT_EQ(ir.at("integrationResponseId").as_string().size(), 6u);
  f.call("POST", integ_path + "/integrationresponses", R"({"integrationResponseKey":"/2\\d\\d/"})", 409);
  f.call("POST", integ_path + "/integrationresponses", R"({"integrationResponseKey":"2xx"})", 400);
  f.call("POST", integ_path + "/integrationresponses", R"({"integrationResponseKey":"/(/"})", 400);
  f.call("GET", integ_path + "/integrationresponses/nope", "", 404);
  auto route =
      f.call("POST", base + "/routes",
             R"({"routeKey":"heartbeat","routeResponseSelectionExpression":"$default","target":"integrations/)" +
                 std::string(integ.at("integrationId").as_string()) + R"("})",
             201);
  const std::string route_path = base + "/routes/" + std::string(route.at("routeId").as_string());
  auto rr = f.call("POST", route_path + "/routeresponses", R"({"routeResponseKey":"$default"})", 201);
  f.call("GET", route_path + "/routeresponses/" + std::string(rr.at("routeResponseId").as_string()), "", 200);
  f.call("POST", base + "/stages", R"({"stageName":"mockstage"})", 201);

  const auto served_mock = [](const gateway_config& cfg) -> const integration_config* {
    for (const auto& a : cfg.apis) {
      const auto* r = a.find_route("heartbeat");
      if (r != nullptr && r->two_way) return a.integration_of(*r);
    }
    return nullptr;
  };
  const auto built = f.cp.build();
  const auto* mock = served_mock(built);
  ASSERT_NE(mock, nullptr);
  EXPECT_TRUE(mock->is_mock());
  EXPECT_EQ(mock->request_templates.at("$default"), R"({"statusCode": 200})");
  ASSERT_EQ(mock->responses.size(), 1u);
  EXPECT_EQ(mock->responses[0].templates.at("$default"), "pong");

  control_plane other{gateway_config{}, k_now};
  ASSERT_TRUE(other.load(f.cp.save()));
  EXPECT_EQ(other.save(), f.cp.save());
  const auto reloaded = other.build();
  ASSERT_NE(served_mock(reloaded), nullptr);

  // Deleting the route response makes the route one-way; deleting the integration response leaves
  // none; the integration's responses go with it.
  f.call("DELETE", route_path + "/routeresponses/" + std::string(rr.at("routeResponseId").as_string()), "", 204);
  const auto one_way = f.cp.build();
  EXPECT_EQ(served_mock(one_way), nullptr);
  f.call("DELETE", integ_path + "/integrationresponses/" + std::string(ir.at("integrationResponseId").as_string()), "",
         204);
  EXPECT_EQ(f.call("GET", integ_path + "/integrationresponses", "", 200).at("items").as_array().size(), 0u);
}

TEST(ControlPlane, LoadRefusesBadStateAndKeepsTheModel) {
  cp_fixture f;
  const std::string before = f.cp.save();
  for (std::string_view bad : {"{not json", R"({"version":2,"apis":[]})", R"({"version":1})",
                               R"({"version":1,"apis":[{"api":{"apiId":"a"}}]})",
                               R"({"version":1,"apis":[
          {"api":{"apiId":"a","name":"a","routeSelectionExpression":"$request.body.x"},"stages":[{"stageName":"s"}]},
          {"api":{"apiId":"b","name":"b","routeSelectionExpression":"$request.body.x"},"stages":[{"stageName":"s"}]}]})"}) {
    auto r = f.cp.load(bad);
    EXPECT_FALSE(r) << bad;
    EXPECT_EQ(f.cp.save(), before);
  }
}

TEST(ControlPlane, ResourceIdShape) {
  const auto id = new_resource_id(7);
  EXPECT_EQ(id.size(), 7u);
  EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos);
}

TEST(ControlPlane, UpdatesReplaceTheGivenMembersAndAreServed) {
  cp_fixture f;
  auto integ =
      f.call("POST", "/v2/apis/devapi0001/integrations",
             R"({"integrationType":"HTTP_PROXY","integrationUri":"http://h/a","integrationMethod":"POST"})", 201);
  const std::string iid(integ.at("integrationId").as_string());
  auto route =
      f.call("POST", "/v2/apis/devapi0001/routes", R"({"routeKey":"go","target":"integrations/)" + iid + "\"}", 201);
  const std::string rid(route.at("routeId").as_string());
  auto updated = f.call("PATCH", "/v2/apis/devapi0001/integrations/" + iid,
                        R"({"integrationUri":"http://h/b","timeoutInMillis":1000})", 200);
  EXPECT_EQ(updated.at("integrationUri"), "http://h/b");
  EXPECT_EQ(updated.at("integrationType"), "HTTP_PROXY");
  f.call("PATCH", "/v2/apis/devapi0001/integrations/" + iid, R"({"timeoutInMillis":40000})", 400);
  f.call("PATCH", "/v2/apis/devapi0001/routes/" + rid, R"({"target":"integrations/nope"})", 400);
  f.call("PATCH", "/v2/apis/devapi0001/routes/" + rid, R"({"routeKey":"$connect"})", 409);
  f.call("DELETE", "/v2/apis/devapi0001/integrations/" + iid, "", 409);
  f.call("PATCH", "/v2/apis/devapi0001", R"({"description":"d"})", 200);
  EXPECT_EQ(f.call("GET", "/v2/apis/devapi0001", "", 200).at("description"), "d");
  auto stage = f.call("PATCH", "/v2/apis/devapi0001/stages/dev", R"({"stageVariables":{"v":"2"}})", 200);
  EXPECT_EQ(stage.at("stageVariables").as_object().at("v"), "2");
  f.call("PATCH", "/v2/apis/devapi0001/stages/dev", R"({"deploymentId":"nope"})", 404);
  const auto served = f.cp.build();
  ASSERT_EQ(served.apis.size(), 1u);
  EXPECT_EQ(served.apis[0].integrations.at(iid).uri, "http://h/b");
}

TEST(ControlPlane, DomainNamesMappingsAndTags) {
  cp_fixture f;
  f.call("POST", "/v2/domainnames", R"({"domainName":"ws.example.com"})", 400);
  auto d = f.call("POST", "/v2/domainnames",
                  R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c"}]})", 201);
  EXPECT_EQ(d.at("apiMappingSelectionExpression"), "$request.basepath");
  const auto& cfg = d.at("domainNameConfigurations").as_array()[0].as_object();
  EXPECT_THAT(std::string(cfg.at("apiGatewayDomainName").as_string()),
              HasSubstr(".execute-api.us-east-1.amazonaws.com"));
  EXPECT_EQ(cfg.at("endpointType"), "REGIONAL");
  f.call("POST", "/v2/domainnames",
         R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c"}]})", 409);
  f.call("GET", "/v2/domainnames/other.example.com", "", 404);
  f.call("POST", "/v2/domainnames/ws.example.com/apimappings", R"({"apiId":"devapi0001","stage":"nope"})", 404);
  auto m = f.call("POST", "/v2/domainnames/ws.example.com/apimappings", R"({"apiId":"devapi0001","stage":"dev"})", 201);
  EXPECT_EQ(m.at("apiMappingKey"), "");
  f.call("POST", "/v2/domainnames/ws.example.com/apimappings", R"({"apiId":"devapi0001","stage":"dev"})", 409);
  auto list = f.call("GET", "/v2/domainnames/ws.example.com/apimappings", "", 200);
  EXPECT_EQ(list.at("items").as_array().size(), 1u);

  const std::string arn = "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fdevapi0001";
  f.call("POST", arn, R"({"tags":{"team":"web"}})", 201);
  EXPECT_EQ(f.call("GET", arn, "", 200).at("tags").as_object().at("team"), "web");
  f.call("POST", "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fnope", R"({"tags":{}})", 404);
}

TEST(ControlPlane, UntagResourceRemovesTheKeysOfAnApiOrAStage) {
  cp_fixture f;
  const std::string arn = "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fdevapi0001";
  f.call("POST", arn, R"({"tags":{"team":"web","cost":"42","env":"dev"}})", 201);
  f.call("DELETE", arn + "?tagKeys=cost&tagKeys=env&tagKeys=absent", "", 204);
  EXPECT_EQ(f.call("GET", arn, "", 200).at("tags").as_object(), (json::object{{"team", "web"}}));
  EXPECT_EQ(f.call("GET", "/v2/apis/devapi0001", "", 200).at("tags").as_object(), (json::object{{"team", "web"}}));
  f.call("DELETE", arn, "", 400);  // tagKeys is required
  const std::string stage_arn = arn + "%2Fstages%2Fdev";
  f.call("POST", stage_arn, R"({"tags":{"a b":"1","c":"2"}})", 201);
  f.call("DELETE", stage_arn + "?tagKeys=a%20b", "", 204);
  EXPECT_EQ(f.call("GET", "/v2/apis/devapi0001/stages/dev", "", 200).at("tags").as_object(),
            (json::object{{"c", "2"}}));
  f.call("GET", arn + "%2Fstages%2Fnope", "", 404);
}

TEST(ControlPlane, UpdateDomainNameChangesTheCertificateAndKeepsTheTarget) {
  cp_fixture f;
  auto d = f.call("POST", "/v2/domainnames",
                  R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c1"}]})", 201);
  const auto target = d.at("domainNameConfigurations").as_array()[0].as_object().at("apiGatewayDomainName");
  auto u = f.call("PATCH", "/v2/domainnames/ws.example.com",
                  R"({"domainNameConfigurations":[{"certificateArn":"arn:c2","securityPolicy":"TLS_1_2"}]})", 200);
  const auto& cfg = u.at("domainNameConfigurations").as_array()[0].as_object();
  EXPECT_EQ(cfg.at("certificateArn"), "arn:c2");
  EXPECT_EQ(cfg.at("securityPolicy"), "TLS_1_2");
  EXPECT_EQ(cfg.at("endpointType"), "REGIONAL");
  EXPECT_EQ(cfg.at("apiGatewayDomainName"), target);
  EXPECT_EQ(f.call("GET", "/v2/domainnames/ws.example.com", "", 200), u);
  f.call("PATCH", "/v2/domainnames/ws.example.com",
         R"({"domainNameConfigurations":[{"certificateArn":"arn:c3","securityPolicy":"TLS_9"}]})", 400);
  f.call("PATCH", "/v2/domainnames/other.example.com", R"({"domainNameConfigurations":[]})", 404);
}

TEST(ControlPlane, EdgeEndpointsAndTls10AreRefusedForWebSocketApis) {
  // AWS: custom domains of WebSocket APIs are REGIONAL only, with TLS 1.2 (BadRequestException).
  cp_fixture f;
  const auto refused = [&](std::string_view method, std::string_view target, std::string_view body,
                           std::string_view says) {
    auto a = f.cp.handle(method, target, body, k_now);
    EXPECT_EQ(a.response.status, 400u) << body;
    EXPECT_EQ(error_type(a.response), "BadRequestException") << body;
    EXPECT_THAT(a.response.body, HasSubstr(says)) << body;
  };
  refused(
      "POST", "/v2/domainnames",
      R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c","endpointType":"EDGE"}]})",
      "EDGE is not supported for WebSocket APIs");
  refused(
      "POST", "/v2/domainnames",
      R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c","securityPolicy":"TLS_1_0"}]})",
      "TLS_1_0 is not supported for WebSocket APIs");
  f.call("GET", "/v2/domainnames/ws.example.com", "", 404);  // nothing was created
  f.call(
      "POST", "/v2/domainnames",
      R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:c","endpointType":"REGIONAL","securityPolicy":"TLS_1_2"}]})",
      201);
  refused("PATCH", "/v2/domainnames/ws.example.com",
          R"({"domainNameConfigurations":[{"certificateArn":"arn:c","endpointType":"EDGE"}]})", "EDGE");
  refused("PATCH", "/v2/domainnames/ws.example.com",
          R"({"domainNameConfigurations":[{"certificateArn":"arn:c","securityPolicy":"TLS_1_0"}]})", "TLS_1_0");
  const auto d = f.call("GET", "/v2/domainnames/ws.example.com", "", 200);
  const auto& cfg = d.at("domainNameConfigurations").as_array()[0].as_object();
  EXPECT_EQ(cfg.at("endpointType"), "REGIONAL");
  EXPECT_EQ(cfg.at("securityPolicy"), "TLS_1_2");
}

TEST(ControlPlane, StageSettingsAreCheckedStoredAndReturnedInTheWireShape) {
  cp_fixture f;
  auto api =
      f.call("POST", "/v2/apis",
             R"({"name":"chat","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"})", 201);
  const std::string stages = fmt::format("/v2/apis/{}/stages", api.at("apiId").as_string().c_str());
  auto st = f.call("POST", stages, R"({"stageName":"s1","defaultRouteSettings":{"throttlingBurstLimit":5},
      "accessLogSettings":{"destinationArn":"arn:aws:logs:us-east-1:1:log-group:g","format":"$context.requestId"}})",
                   201);
  // Members not given keep AWS's defaults.
  EXPECT_EQ(
      st.at("defaultRouteSettings"),
      json::parse(
          R"({"dataTraceEnabled":false,"detailedMetricsEnabled":false,"loggingLevel":"OFF","throttlingBurstLimit":5})"));
  EXPECT_EQ(st.at("accessLogSettings"),
            json::parse(R"({"destinationArn":"arn:aws:logs:us-east-1:1:log-group:g","format":"$context.requestId"})"));
  // UpdateStage merges the route settings given over the stored ones.
  auto u = f.call("PATCH", stages + "/s1",
                  R"({"defaultRouteSettings":{"loggingLevel":"INFO","throttlingRateLimit":2.5}})", 200);
  EXPECT_EQ(
      u.at("defaultRouteSettings"),
      json::parse(
          R"({"dataTraceEnabled":false,"detailedMetricsEnabled":false,"loggingLevel":"INFO","throttlingBurstLimit":5,"throttlingRateLimit":2.5})"));
  EXPECT_EQ(f.call("GET", stages + "/s1", "", 200), u);
  for (
      std::string_view bad : {
          R"({"defaultRouteSettings":{"loggingLevel":"DEBUG"}})",
          R"({"defaultRouteSettings":{"dataTraceEnabled":"yes"}})",
          R"({"defaultRouteSettings":{"throttlingBurstLimit":-1}})",
          R"({"defaultRouteSettings":{"colour":1}})",
          R"({"routeSettings":{"$default":{"loggingLevel":"LOUD"}}})",
          R"({"accessLogSettings":{"destinationArn":"arn:aws:s3:::b","format":"$context.requestId"}})",
          R"({"accessLogSettings":{"destinationArn":"arn:aws:logs:us-east-1:1:log-group:g","format":"$context.status"}})",
      }) {
    f.call("PATCH", stages + "/s1", bad, 400);
  }
  EXPECT_EQ(f.call("GET", stages + "/s1", "", 200), u);  // nothing refused was stored
  // DeleteAccessLogSettings: the stage keeps no access log.
  f.call("DELETE", stages + "/s1/accesslogsettings", "", 204);
  EXPECT_FALSE(f.call("GET", stages + "/s1", "", 200).contains("accessLogSettings"));
  f.call("DELETE", stages + "/nope/accesslogsettings", "", 404);
}

TEST(ControlPlane, MapUpdatesMergeAndAnEmptyValueRemovesAKey) {
  cp_fixture f;
  auto stage = f.call("PATCH", "/v2/apis/devapi0001/stages/dev", R"({"stageVariables":{"a":"1","b":"2"}})", 200);
  stage = f.call("PATCH", "/v2/apis/devapi0001/stages/dev", R"({"stageVariables":{"c":"3","a":""}})", 200);
  EXPECT_EQ(stage.at("stageVariables").as_object(), (json::object{{"b", "2"}, {"c", "3"}}));
  f.call("PATCH", "/v2/apis/devapi0001/stages/dev", R"({"stageVariables":{"a":1}})", 400);

  const std::string iid(f.call("GET", "/v2/apis/devapi0001/integrations", "", 200)
                            .at("items")
                            .as_array()[0]
                            .as_object()
                            .at("integrationId")
                            .as_string());
  auto integ = f.call("PATCH", "/v2/apis/devapi0001/integrations/" + iid,
                      R"({"requestParameters":{"integration.request.header.x":"'v'"}})", 200);
  EXPECT_EQ(integ.at("requestParameters").as_object(),
            (json::object{{"integration.request.header.connectionId", "context.connectionId"},
                          {"integration.request.header.x", "'v'"}}));
  integ = f.call("PATCH", "/v2/apis/devapi0001/integrations/" + iid,
                 R"({"requestParameters":{"integration.request.header.x":""}})", 200);
  EXPECT_EQ(integ.at("requestParameters").as_object(),
            (json::object{{"integration.request.header.connectionId", "context.connectionId"}}));
}

TEST(ControlPlane, MapUpdatesCanReplaceInstead) {
  auto cfg = default_dev_config();
  cfg.control_plane_maps = map_update::replace;
  control_plane cp(cfg, k_now);
  const auto patch = [&](std::string_view body) {
    auto a = cp.handle("PATCH", "/v2/apis/devapi0001/stages/dev", body, k_now);
    EXPECT_EQ(a.response.status, 200u) << a.response.body;
    return parse_json_object(a.response.body)->at("stageVariables").as_object();
  };
  patch(R"({"stageVariables":{"a":"1","b":"2"}})");
  EXPECT_EQ(patch(R"({"stageVariables":{"c":"3","a":""}})"), (json::object{{"c", "3"}}));
  EXPECT_EQ(cp.build().control_plane_maps, map_update::replace);
}

}  // namespace
}  // namespace apigw::gateway::detail
