// Unit tests of the pure planner (plan_api, plan_domain, pick_api, map_update_body) on tables of
// cases: each case starts from a live state that matches the file exactly, changes the file or the
// live state, and lists the operations expected, as "OperationName line" (record operations as
// "record route KEY" / "forget route KEY"). No I/O. (Over 600 lines on purpose: the API table alone
// is some 280 lines of cases a reader compares row by row, and the mock and domain tables share
// its helpers.)
#include "apigw/provision/plan.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace apigw::provision {
namespace {

namespace json = boost::json;
using object = json::object;

constexpr std::string_view k_region = "eu-west-1";

api_config config(std::string_view text) {
  auto c = parse_api_config(text);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? *c : api_config{};
}

api_config base_config() {
  return config(R"({"name": "chat", "target_base": "http://127.0.0.1:9000/ws/", "stage_variables": {"env": "prod"},
                    "tags": {"team": "web"}})");
}

object string_object(const std::map<std::string, std::string>& m) {
  object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// matching: the live state (and record) of `c` applied and deployed: API api1, integrations
// i0.., routes r0.., stage with deployment dep1.
live_api matching(const api_config& c) {
  live_api live;
  object api;
  api["apiId"] = "api1";
  api["name"] = c.name;
  api["protocolType"] = "WEBSOCKET";
  api["routeSelectionExpression"] = c.route_selection_expression;
  api["tags"] = string_object(c.tags);
  live.api = api;
  int n = 0;
  for (const auto& d : desired_routes(c)) {
    object i = d.integration;
    i["integrationId"] = fmt::format("i{}", n);
    live.integrations.push_back(i);
    object r;
    r["routeId"] = fmt::format("r{}", n);
    r["routeKey"] = d.key;
    r["target"] = fmt::format("integrations/i{}", n);
    live.routes.push_back(r);
    live.record.routes.push_back(recorded_route{
        d.key, d.name, d.is_mock() ? std::string("MOCK") : std::string(*get_string(d.integration, "integrationUri")),
        true});
    if (d.is_mock()) {
      object ir = *d.integration_response;
      ir["integrationResponseId"] = fmt::format("ir{}", n);
      live.integration_responses[fmt::format("i{}", n)].push_back(ir);
    }
    if (d.two_way) {
      live.routes.back()["routeResponseSelectionExpression"] = "$default";
      live.route_responses[fmt::format("r{}", n)].push_back(
          object{{"routeResponseId", fmt::format("rr{}", n)}, {"routeResponseKey", "$default"}});
    }
    ++n;
  }
  object stage;
  stage["stageName"] = c.stage;
  stage["stageVariables"] = string_object(c.stage_variables);
  stage["defaultRouteSettings"] = object{{"dataTraceEnabled", false}, {"loggingLevel", "OFF"}};
  stage["tags"] = string_object(c.tags);
  stage["deploymentId"] = "dep1";
  live.stages.push_back(stage);
  live.record.api_id = "api1";
  live.record.stage = c.stage;
  live.record.deployment_id = "dep1";
  return live;
}

std::vector<std::string> summary(const std::vector<operation>& ops) {
  std::vector<std::string> out;
  for (const auto& o : ops) {
    out.push_back(fmt::format("{} {}", op_name(o.kind), o.line.empty() ? o.route_key : o.line));
  }
  return out;
}

object* find_stage(live_api& live) {
  return &live.stages.front();
}

struct api_case {
  std::string name;
  std::function<void(api_config&, live_api&)> change;
  std::vector<std::string> expected;
};

const std::vector<api_case>& api_cases() {
  static const std::vector<api_case> cases = {
      {"no change: only reads", [](api_config&, live_api&) {}, {}},
      {"create from nothing",
       [](api_config&, live_api& live) { live = live_api{}; },
       {R"(CreateApi + api chat)", "CreateIntegration + integration $connect -> http://127.0.0.1:9000/ws/connect",
        "CreateRoute + route $connect", "record route $connect",
        "CreateIntegration + integration $disconnect -> http://127.0.0.1:9000/ws/disconnect",
        "CreateRoute + route $disconnect", "record route $disconnect",
        "CreateIntegration + integration $default -> http://127.0.0.1:9000/ws/default", "CreateRoute + route $default",
        "record route $default", "CreateStage + stage production",
        "CreateDeployment + deployment of stage production"}},
      {"route added",
       [](api_config& c, live_api&) {
         c.routes.push_back(route_config{"chat", "http://127.0.0.1:9000/chat", "chat"});
       },
       {"CreateIntegration + integration chat -> http://127.0.0.1:9000/chat", "CreateRoute + route chat",
        "record route chat", "CreateDeployment + deployment of stage production"}},
      {"route removed",
       [](api_config&, live_api& live) {
         object i = live.integrations.front();
         i["integrationId"] = "i9";
         i["integrationUri"] = "http://127.0.0.1:9000/old";
         live.integrations.push_back(i);
         live.routes.push_back(object{{"routeId", "r9"}, {"routeKey", "old"}, {"target", "integrations/i9"}});
         live.record.routes.push_back(recorded_route{"old", "", "http://127.0.0.1:9000/old", true});
       },
       {"DeleteRoute - route old", "forget route old", "DeleteIntegration - integration i9 (http://127.0.0.1:9000/old)",
        "CreateDeployment + deployment of stage production"}},
      {"route pointing at a missing integration is pointed at an unused one that matches",
       [](api_config&, live_api& live) {
         live.routes[2]["target"] = "integrations/gone";
         live.integrations[2]["integrationId"] = "i7";
       },
       {"UpdateRoute ~ route $default -> integrations/i7", "record route $default",
        "CreateDeployment + deployment of stage production"}},
      {"route without a usable integration gets a new one",
       [](api_config&, live_api& live) {
         live.routes[2]["target"] = "integrations/gone";
         live.integrations.pop_back();
       },
       {"CreateIntegration + integration $default -> http://127.0.0.1:9000/ws/default",
        "UpdateRoute ~ route $default -> integrations/(new)", "record route $default",
        "CreateDeployment + deployment of stage production"}},
      {"integration URL changed",
       [](api_config& c, live_api&) { c.target_base = "http://127.0.0.1:9001/ws/"; },
       {R"(UpdateIntegration ~ integration i0 ($connect): {"integrationUri":"http://127.0.0.1:9001/ws/connect"})",
        "record route $connect",
        R"(UpdateIntegration ~ integration i1 ($disconnect): {"integrationUri":"http://127.0.0.1:9001/ws/disconnect"})",
        "record route $disconnect",
        R"(UpdateIntegration ~ integration i2 ($default): {"integrationUri":"http://127.0.0.1:9001/ws/default"})",
        "record route $default", "CreateDeployment + deployment of stage production"}},
      {"integration timeout changed",
       [](api_config& c, live_api& live) {
         c.routes.push_back(route_config{"chat", "http://127.0.0.1:9000/chat", ""});
         live = matching(c);
         c.timeout_ms = 5000;
       },
       {R"(UpdateIntegration ~ integration i0 ($connect): {"timeoutInMillis":5000})", "record route $connect",
        R"(UpdateIntegration ~ integration i1 ($disconnect): {"timeoutInMillis":5000})", "record route $disconnect",
        R"(UpdateIntegration ~ integration i2 ($default): {"timeoutInMillis":5000})", "record route $default",
        R"(UpdateIntegration ~ integration i3 (chat): {"timeoutInMillis":5000})", "record route chat",
        "CreateDeployment + deployment of stage production"}},
      {"request parameter added (a shared secret)",
       [](api_config& c, live_api&) { c.shared_secret = "s3cret"; },
       {R"(UpdateIntegration ~ integration i0 ($connect): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'s3cret'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $connect",
        R"(UpdateIntegration ~ integration i1 ($disconnect): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'s3cret'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $disconnect",
        R"(UpdateIntegration ~ integration i2 ($default): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'s3cret'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $default", "CreateDeployment + deployment of stage production"}},
      {"request parameter changed",
       [](api_config& c, live_api& live) {
         c.shared_secret = "old";
         live = matching(c);
         c.shared_secret = "new";
         c.routes.clear();
       },
       {R"(UpdateIntegration ~ integration i0 ($connect): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'new'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $connect",
        R"(UpdateIntegration ~ integration i1 ($disconnect): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'new'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $disconnect",
        R"(UpdateIntegration ~ integration i2 ($default): {"requestParameters":{"integration.request.header.X-Apigw-Secret":"'new'","integration.request.header.connectionId":"context.connectionId"}})",
        "record route $default", "CreateDeployment + deployment of stage production"}},
      {"request parameter dropped: sent with an empty value",
       [](api_config& c, live_api& live) {
         c.shared_secret = "old";
         live = matching(c);
         c.shared_secret.clear();
       },
       {R"(UpdateIntegration ~ integration i0 ($connect): {"requestParameters":{"integration.request.header.connectionId":"context.connectionId","integration.request.header.X-Apigw-Secret":""}})",
        "record route $connect",
        R"(UpdateIntegration ~ integration i1 ($disconnect): {"requestParameters":{"integration.request.header.connectionId":"context.connectionId","integration.request.header.X-Apigw-Secret":""}})",
        "record route $disconnect",
        R"(UpdateIntegration ~ integration i2 ($default): {"requestParameters":{"integration.request.header.connectionId":"context.connectionId","integration.request.header.X-Apigw-Secret":""}})",
        "record route $default", "CreateDeployment + deployment of stage production"}},
      {"a request parameter stored with an empty value counts as absent",
       [](api_config&, live_api& live) {
         for (auto& i : live.integrations) {
           i["requestParameters"].as_object()["integration.request.header.X-Old"] = "";
         }
       },
       {}},
      {"defaults the control plane leaves out are not differences",
       [](api_config&, live_api& live) {
         for (auto& i : live.integrations) {
           i.erase("connectionType");
           i.erase("payloadFormatVersion");
         }
       },
       {}},
      {"stage variable added",
       [](api_config& c, live_api&) { c.stage_variables["region"] = "eu"; },
       {R"(UpdateStage ~ stage production: {"stageVariables":{"env":"prod","region":"eu"}})"}},
      {"stage variable changed",
       [](api_config& c, live_api&) { c.stage_variables["env"] = "test"; },
       {R"(UpdateStage ~ stage production: {"stageVariables":{"env":"test"}})"}},
      {"stage variable dropped: sent with an empty value",
       [](api_config& c, live_api&) { c.stage_variables.clear(); },
       {R"(UpdateStage ~ stage production: {"stageVariables":{"env":""}})"}},
      {"stage variable stored empty counts as absent",
       [](api_config&, live_api& live) { find_stage(live)->at("stageVariables").as_object()["gone"] = ""; },
       {}},
      {"stage description changed",
       [](api_config& c, live_api&) { c.stage_description = "live"; },
       {R"(UpdateStage ~ stage production: {"description":"live"})"}},
      {"throttling configured",
       [](api_config& c, live_api&) {
         c.throttling_burst_limit = 500;
         c.throttling_rate_limit = 1000.0;
       },
       {R"(UpdateStage ~ stage production: {"defaultRouteSettings":{"dataTraceEnabled":false,"loggingLevel":"OFF","detailedMetricsEnabled":false,"throttlingBurstLimit":500,"throttlingRateLimit":1E3}})"}},
      {"throttling already as configured",
       [](api_config& c, live_api& live) {
         c.throttling_burst_limit = 500;
         find_stage(live)->at("defaultRouteSettings").as_object()["throttlingBurstLimit"] = 500.0;
       },
       {}},
      {"API description and route selection expression changed",
       [](api_config& c, live_api&) {
         c.description = "chat app";
         c.route_selection_expression = "$request.body.type";
       },
       {R"(UpdateApi ~ api chat: {"routeSelectionExpression":"$request.body.type","description":"chat app"})"}},
      {"API renamed (found by its recorded id)",
       [](api_config&, live_api& live) { live.api->at("name") = "old-chat"; },
       {R"(UpdateApi ~ api chat: {"name":"chat"})"}},
      {"tag added: on the API and on the stage",
       [](api_config& c, live_api&) { c.tags["cost"] = "c1"; },
       {R"(TagResource ~ api chat tags: {"cost":"c1"})", R"(TagResource ~ stage production tags: {"cost":"c1"})"}},
      {"tag changed",
       [](api_config& c, live_api&) { c.tags["team"] = "ops"; },
       {R"(TagResource ~ api chat tags: {"team":"ops"})", R"(TagResource ~ stage production tags: {"team":"ops"})"}},
      {"tag removed: UntagResource on the API and the stage",
       [](api_config& c, live_api& live) {
         c.tags["cost"] = "c1";
         live = matching(c);
         c.tags.erase("cost");
       },
       {R"(UntagResource - api chat tags: ["cost"])", R"(UntagResource - stage production tags: ["cost"])"}},
      {"AWS's own tags are left alone",
       [](api_config&, live_api& live) {
         live.api->at("tags").as_object()["aws:cloudformation:stack-name"] = "s";
         find_stage(live)->at("tags").as_object()["aws:x"] = "y";
       },
       {}},
      {"stage tags only",
       [](api_config&, live_api& live) { find_stage(live)->erase("tags"); },
       {R"(TagResource ~ stage production tags: {"team":"web"})"}},
      {"stage missing: created and deployed",
       [](api_config&, live_api& live) { live.stages.clear(); },
       {"CreateStage + stage production", "CreateDeployment + deployment of stage production"}},
      {"stage renamed: the new one created and deployed, then the old one deleted",
       [](api_config& c, live_api&) { c.stage = "beta"; },
       {"CreateStage + stage beta", "CreateDeployment + deployment of stage beta",
        "DeleteStage - stage production (not in the file; list it in keep_stages to keep it)"}},
      {"stage renamed, the old one in keep_stages: kept",
       [](api_config& c, live_api&) {
         c.stage = "beta";
         c.keep_stages = {"production"};
       },
       {"CreateStage + stage beta", "CreateDeployment + deployment of stage beta"}},
      {"a stage made elsewhere and not kept is deleted",
       [](api_config&, live_api& live) {
         live.stages.push_back(object{{"stageName", "test"}});
       },
       {"DeleteStage - stage test (not in the file; list it in keep_stages to keep it)"}},
      {"logging level, data trace and detailed metrics configured",
       [](api_config& c, live_api&) {
         c.logging_level = "INFO";
         c.data_trace = true;
         c.detailed_metrics = true;
       },
       {R"(UpdateStage ~ stage production: {"defaultRouteSettings":{"dataTraceEnabled":true,"loggingLevel":"INFO","detailedMetricsEnabled":true}})"}},
      {"logging level set elsewhere goes back to the file's (OFF)",
       [](api_config&, live_api& live) {
         find_stage(live)->at("defaultRouteSettings").as_object()["loggingLevel"] = "ERROR";
       },
       {R"(UpdateStage ~ stage production: {"defaultRouteSettings":{"dataTraceEnabled":false,"loggingLevel":"OFF","detailedMetricsEnabled":false}})"}},
      {"route settings missing on the stage count as AWS's defaults",
       [](api_config&, live_api& live) { find_stage(live)->erase("defaultRouteSettings"); },
       {}},
      {"throttling on the stage and not in the file is left alone",
       [](api_config&, live_api& live) {
         find_stage(live)->at("defaultRouteSettings").as_object()["throttlingRateLimit"] = 7.0;
       },
       {}},
      {"access log configured",
       [](api_config& c, live_api&) {
         c.access_log = access_log_config{"arn:aws:logs:eu-west-1:1:log-group:ws", "$context.requestId"};
       },
       {R"(UpdateStage ~ stage production: {"accessLogSettings":{"destinationArn":"arn:aws:logs:eu-west-1:1:log-group:ws","format":"$context.requestId"}})"}},
      {"access log already as configured",
       [](api_config& c, live_api& live) {
         c.access_log = access_log_config{"arn:aws:logs:eu-west-1:1:log-group:ws", "$context.requestId"};
         (*find_stage(live))["accessLogSettings"] =
             object{{"destinationArn", "arn:aws:logs:eu-west-1:1:log-group:ws"}, {"format", "$context.requestId"}};
       },
       {}},
      {"access log format changed",
       [](api_config& c, live_api& live) {
         c.access_log =
             access_log_config{"arn:aws:logs:eu-west-1:1:log-group:ws", "$context.requestId $context.status"};
         (*find_stage(live))["accessLogSettings"] =
             object{{"destinationArn", "arn:aws:logs:eu-west-1:1:log-group:ws"}, {"format", "$context.requestId"}};
       },
       {R"(UpdateStage ~ stage production: {"accessLogSettings":{"destinationArn":"arn:aws:logs:eu-west-1:1:log-group:ws","format":"$context.requestId $context.status"}})"}},
      {"access log no longer in the file: DeleteAccessLogSettings",
       [](api_config&, live_api& live) {
         (*find_stage(live))["accessLogSettings"] =
             object{{"destinationArn", "arn:aws:logs:eu-west-1:1:log-group:ws"}, {"format", "$context.requestId"}};
       },
       {"DeleteAccessLogSettings - stage production access log (arn:aws:logs:eu-west-1:1:log-group:ws)"}},
      {"an empty access log on the stage counts as none",
       [](api_config&, live_api& live) { (*find_stage(live))["accessLogSettings"] = object{}; },
       {}},
      {"a recorded route not deployed: deploy only",
       [](api_config&, live_api& live) { live.record.routes[1].deployed = false; },
       {"CreateDeployment + deployment of stage production"}},
      {"the stage serves another deployment than recorded",
       [](api_config&, live_api& live) { live.record.deployment_id = "dep0"; },
       {"CreateDeployment + deployment of stage production"}},
      {"nothing recorded (the API found by name): deploy to make the record true",
       [](api_config&, live_api& live) { live.record = api_record{}; },
       {"record route $connect", "record route $disconnect", "record route $default",
        "CreateDeployment + deployment of stage production"}},
      {"a deployment recorded for another API does not count",
       [](api_config&, live_api& live) { live.record.api_id = "api0"; },
       {"CreateDeployment + deployment of stage production"}},
      {"a recorded route that exists nowhere is forgotten",
       [](api_config&, live_api& live) {
         live.record.routes.push_back(recorded_route{"ghost", "", "http://127.0.0.1:9000/ghost", true});
       },
       {"forget route ghost"}},
      {"a recorded route with another name is recorded again",
       [](api_config&, live_api& live) { live.record.routes[0].name = "hello"; },
       {"record route $connect", "CreateDeployment + deployment of stage production"}},
      {"an integration no route uses is deleted",
       [](api_config&, live_api& live) {
         object i = live.integrations.front();
         i["integrationId"] = "i8";
         live.integrations.push_back(i);
       },
       {"DeleteIntegration - integration i8 (http://127.0.0.1:9000/ws/connect)"}},
  };
  return cases;
}

class PlanApi : public ::testing::TestWithParam<std::size_t> {};

TEST_P(PlanApi, Operations) {
  const auto& c = api_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto cfg = base_config();
  auto live = matching(cfg);
  c.change(cfg, live);
  EXPECT_EQ(summary(plan_api(cfg, live, k_region)), c.expected);
}

// case_name: the case's description as a test name (letters, digits and '_').
std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  std::string out;
  for (char ch : api_cases()[info.param].name) {
    const bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (word) {
      out += ch;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

INSTANTIATE_TEST_SUITE_P(Table, PlanApi, ::testing::Range<std::size_t>(0, api_cases().size()), case_name);

// MOCK routes: "heartbeat" one-way (i3/r3), "ping" two-way answering "pong" (i4/r4).
api_config mock_config() {
  return config(R"({"name": "chat", "target_base": "http://127.0.0.1:9000/ws/",
                    "routes": [{"route_key": "heartbeat", "integration": "mock"},
                               {"route_key": "ping", "integration": "mock", "response": "pong"}]})");
}

const std::vector<api_case>& mock_cases() {
  static const std::vector<api_case> cases = {
      {"no change: only reads", [](api_config&, live_api&) {}, {}},
      {"create from nothing",
       [](api_config&, live_api& live) { live = live_api{}; },
       {R"(CreateApi + api chat)",
        "CreateIntegration + integration $connect -> http://127.0.0.1:9000/ws/connect",
        "CreateRoute + route $connect",
        "record route $connect",
        "CreateIntegration + integration $disconnect -> http://127.0.0.1:9000/ws/disconnect",
        "CreateRoute + route $disconnect",
        "record route $disconnect",
        "CreateIntegration + integration $default -> http://127.0.0.1:9000/ws/default",
        "CreateRoute + route $default",
        "record route $default",
        "CreateIntegration + integration heartbeat -> MOCK",
        "CreateIntegrationResponse + integration response heartbeat $default",
        "CreateRoute + route heartbeat",
        "record route heartbeat",
        "CreateIntegration + integration ping -> MOCK",
        "CreateIntegrationResponse + integration response ping $default",
        "CreateRoute + route ping",
        "CreateRouteResponse + route response ping $default",
        "record route ping",
        "CreateStage + stage production",
        "CreateDeployment + deployment of stage production"}},
      {"response template changed",
       [](api_config& c, live_api&) { c.routes[1].response = "PONG"; },
       {R"(UpdateIntegrationResponse ~ integration response ir4 (ping): {"responseTemplates":{"$default":"PONG"}})",
        "record route ping", "CreateDeployment + deployment of stage production"}},
      {"response dropped: the route becomes one-way",
       [](api_config& c, live_api&) { c.routes[1].response.reset(); },
       {R"(UpdateIntegrationResponse ~ integration response ir4 (ping): {"responseTemplates":{"$default":""}})",
        "DeleteRouteResponse - route response rr4 (ping) $default", "record route ping",
        "CreateDeployment + deployment of stage production"}},
      {"response added: the route becomes two-way",
       [](api_config& c, live_api&) { c.routes[0].response = "{\"type\":\"heartbeat\"}"; },
       {R"(UpdateIntegrationResponse ~ integration response ir3 (heartbeat): {"responseTemplates":{"$default":"{\"type\":\"heartbeat\"}"}})",
        R"(UpdateRoute ~ route heartbeat: {"routeResponseSelectionExpression":"$default"})",
        "CreateRouteResponse + route response heartbeat $default", "record route heartbeat",
        "CreateDeployment + deployment of stage production"}},
      {"integration response missing, another key present",
       [](api_config&, live_api& live) {
         live.integration_responses["i3"] = {
             object{{"integrationResponseId", "ir9"}, {"integrationResponseKey", "/5\\d\\d/"}}};
       },
       {R"(DeleteIntegrationResponse - integration response ir9 (heartbeat) /5\d\d/)",
        "CreateIntegrationResponse + integration response heartbeat $default", "record route heartbeat",
        "CreateDeployment + deployment of stage production"}},
      {"route response missing",
       [](api_config&, live_api& live) { live.route_responses.erase("r4"); },
       {"CreateRouteResponse + route response ping $default", "record route ping",
        "CreateDeployment + deployment of stage production"}},
      {"HTTP route made MOCK: a new integration, the old one deleted",
       [](api_config&, live_api& live) {
         live.integrations[4] = object{{"integrationId", "i4"},
                                       {"integrationType", "HTTP_PROXY"},
                                       {"integrationUri", "http://127.0.0.1:9000/ping"}};
         live.integration_responses.erase("i4");
         live.routes[4].erase("routeResponseSelectionExpression");
         live.route_responses.erase("r4");
       },
       {"CreateIntegration + integration ping -> MOCK",
        "CreateIntegrationResponse + integration response ping $default",
        R"x(UpdateRoute ~ route ping: {"target":"integrations/(new)","routeResponseSelectionExpression":"$default"})x",
        "CreateRouteResponse + route response ping $default", "record route ping",
        "DeleteIntegration - integration i4 (http://127.0.0.1:9000/ping)",
        "CreateDeployment + deployment of stage production"}},
      {"MOCK route removed from the file",
       [](api_config& c, live_api&) { c.routes.pop_back(); },
       {"DeleteRoute - route ping", "forget route ping", "DeleteIntegration - integration i4 (MOCK)",
        "CreateDeployment + deployment of stage production"}},
  };
  return cases;
}

class PlanMock : public ::testing::TestWithParam<std::size_t> {};

TEST_P(PlanMock, Operations) {
  const auto& c = mock_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto cfg = mock_config();
  auto live = matching(cfg);
  c.change(cfg, live);
  EXPECT_EQ(summary(plan_api(cfg, live, k_region)), c.expected);
}

std::string mock_case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  std::string out;
  for (char ch : mock_cases()[info.param].name) {
    const bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (word) {
      out += ch;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

INSTANTIATE_TEST_SUITE_P(Table, PlanMock, ::testing::Range<std::size_t>(0, mock_cases().size()), mock_case_name);

TEST(PlanMockBodies, MockIntegrationRouteAndResponses) {
  auto live = matching(mock_config());
  live.integrations.resize(3);
  live.routes.resize(3);
  live.integration_responses.clear();
  live.route_responses.clear();
  const auto ops = plan_api(mock_config(), live, k_region);
  ASSERT_GE(ops.size(), 8u);
  EXPECT_EQ(json::serialize(ops[0].body),
            R"({"integrationType":"MOCK","requestTemplates":{"$default":"{\"statusCode\": 200}"},)"
            R"("templateSelectionExpression":"\\$default"})");
  EXPECT_EQ(ops[1].target, k_new_id);
  EXPECT_EQ(json::serialize(ops[1].body), R"({"integrationResponseKey":"$default"})");
  EXPECT_EQ(json::serialize(ops[5].body),
            R"({"integrationResponseKey":"$default","responseTemplates":{"$default":"pong"}})");
  EXPECT_EQ(json::serialize(ops[6].body),
            R"x({"routeKey":"ping","target":"integrations/(new)","authorizationType":"NONE","apiKeyRequired":false,)x"
            R"("routeResponseSelectionExpression":"$default"})");
  EXPECT_EQ(ops[7].kind, op::create_route_response);
  EXPECT_EQ(ops[7].target, k_new_id);
}

TEST(PlanApiBodies, CreateFromNothingSendsTheWholeConfiguration) {
  auto cfg = config(R"({"name": "chat", "target_base": "https://app.example.com/ws", "description": "d",
                        "shared_secret": "s", "timeout_ms": 1000, "tags": {"team": "web"},
                        "stage": "prod", "stage_description": "p", "stage_variables": {"env": "prod"},
                        "throttling": {"burst_limit": 10, "rate_limit": 2.5}})");
  const auto ops = plan_api(cfg, live_api{}, k_region);
  ASSERT_EQ(ops.size(), 12u);
  EXPECT_EQ(
      json::serialize(ops[0].body),
      R"({"name":"chat","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action","description":"d","tags":{"team":"web"}})");
  EXPECT_EQ(
      json::serialize(ops[1].body),
      R"({"integrationType":"HTTP_PROXY","integrationMethod":"POST","integrationUri":"https://app.example.com/ws/connect","connectionType":"INTERNET","payloadFormatVersion":"1.0","timeoutInMillis":1000,"requestParameters":{"integration.request.header.X-Apigw-Secret":"'s'","integration.request.header.connectionId":"context.connectionId"}})");
  EXPECT_EQ(
      json::serialize(ops[2].body),
      R"x({"routeKey":"$connect","target":"integrations/(new)","authorizationType":"NONE","apiKeyRequired":false})x");
  EXPECT_EQ(ops[3].record.integration_url, "https://app.example.com/ws/connect");
  EXPECT_EQ(ops[3].record.name, "connect");
  EXPECT_FALSE(ops[3].record.deployed);
  EXPECT_EQ(
      json::serialize(ops[10].body),
      R"({"stageName":"prod","stageVariables":{"env":"prod"},"defaultRouteSettings":{"dataTraceEnabled":false,"detailedMetricsEnabled":false,"loggingLevel":"OFF","throttlingBurstLimit":10,"throttlingRateLimit":2.5E0},"description":"p","tags":{"team":"web"}})");
  EXPECT_EQ(json::serialize(ops[11].body), R"({"stageName":"prod","description":"p"})");
  EXPECT_EQ(changes(ops), 9);
}

TEST(PlanApiBodies, TagOperationsNameTheResourceArns) {
  auto cfg = base_config();
  auto live = matching(cfg);
  cfg.tags.clear();
  const auto ops = plan_api(cfg, live, k_region);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].target, "arn:aws:apigateway:eu-west-1::/apis/api1");
  EXPECT_EQ(ops[0].tag_keys, std::vector<std::string>{"team"});
  EXPECT_EQ(ops[1].target, "arn:aws:apigateway:eu-west-1::/apis/api1/stages/production");
}

TEST(PlanApiBodies, UpdatesNameTheirResources) {
  auto cfg = base_config();
  auto live = matching(cfg);
  live.routes.push_back(object{{"routeId", "r9"}, {"routeKey", "old"}, {"target", "integrations/i0"}});
  cfg.target_base = "http://127.0.0.1:1/";
  const auto ops = plan_api(cfg, live, k_region);
  ASSERT_FALSE(ops.empty());
  EXPECT_EQ(ops[0].kind, op::update_integration);
  EXPECT_EQ(ops[0].target, "i0");
  const auto del = std::find_if(ops.begin(), ops.end(), [](const operation& o) { return o.kind == op::delete_route; });
  ASSERT_NE(del, ops.end());
  EXPECT_EQ(del->target, "r9");
}

TEST(PickApi, TwoWebSocketApisWithTheNameAreRefused) {
  const auto cfg = base_config();
  std::vector<object> apis{object{{"apiId", "a1"}, {"name", "chat"}, {"protocolType", "WEBSOCKET"}},
                           object{{"apiId", "a2"}, {"name", "chat"}, {"protocolType", "WEBSOCKET"}}};
  auto r = pick_api(cfg, apis);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error::invalid_argument);
  EXPECT_EQ(r.error().message,
            "2 WebSocket APIs are named \"chat\"; record the one to manage by deleting the others or renaming them");
}

TEST(PickApi, OnlyAWebSocketApiOfThatNameIsPicked) {
  const auto cfg = base_config();
  std::vector<object> apis{object{{"apiId", "h1"}, {"name", "chat"}, {"protocolType", "HTTP"}},
                           object{{"apiId", "w0"}, {"name", "other"}, {"protocolType", "WEBSOCKET"}},
                           object{{"apiId", "w1"}, {"name", "chat"}, {"protocolType", "WEBSOCKET"}}};
  auto r = pick_api(cfg, apis);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(member_string(**r, "apiId"), "w1");
  apis.pop_back();
  r = pick_api(cfg, apis);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

struct map_case {
  std::map<std::string, std::string> want;
  std::map<std::string, std::string> have;
  std::string expected;
};

TEST(MapUpdateBody, Table) {
  const std::vector<map_case> cases = {
      {{{"a", "1"}}, {{"a", "1"}}, "{}"},
      {{{"a", "1"}}, {{"a", "1"}, {"b", ""}}, "{}"},
      {{{"a", "1"}, {"b", "2"}}, {{"a", "1"}}, R"({"a":"1","b":"2"})"},
      {{{"a", "2"}}, {{"a", "1"}}, R"({"a":"2"})"},
      {{}, {{"a", "1"}}, R"({"a":""})"},
      {{{"b", "2"}}, {{"a", "1"}}, R"({"b":"2","a":""})"},
  };
  for (const auto& c : cases) EXPECT_EQ(json::serialize(map_update_body(c.want, c.have)), c.expected);
}

// A domain as the control plane returns it: one configuration with read-only members.
object live_domain_object(std::string_view cert, std::string_view type, std::string_view policy) {
  object first{{"certificateArn", cert},   {"endpointType", type},
               {"securityPolicy", policy}, {"apiGatewayDomainName", "d-abc.execute-api.eu-west-1.amazonaws.com"},
               {"hostedZoneId", "Z1"},     {"domainNameStatus", "AVAILABLE"}};
  json::array configs;
  configs.push_back(first);
  return object{{"domainName", "ws.example.com"}, {"domainNameConfigurations", configs}};
}

struct domain_case {
  std::string name;
  std::function<void(domain_config&, live_domain&)> change;
  std::vector<std::string> expected;
};

TEST(PlanDomain, Table) {
  const std::string cert = "arn:aws:acm:eu-west-1:1:certificate/abc";
  const std::vector<domain_case> cases = {
      {"no change", [](domain_config&, live_domain&) {}, {}},
      {"created with its mapping",
       [](domain_config&, live_domain& live) { live = live_domain{}; },
       {"CreateDomainName + domain name ws.example.com (certificate arn:aws:acm:eu-west-1:1:certificate/abc)",
        "CreateApiMapping + API mapping ws.example.com/ -> API api1 stage production"}},
      {"certificate changed",
       [](domain_config& d, live_domain&) { d.certificate_arn = "arn:aws:acm:eu-west-1:1:certificate/def"; },
       {"UpdateDomainName ~ domain name ws.example.com: certificate arn:aws:acm:eu-west-1:1:certificate/abc -> "
        "arn:aws:acm:eu-west-1:1:certificate/def"}},
      {"endpoint type made elsewhere (EDGE) changed to the file's",
       [](domain_config&, live_domain& live) {
         live.domain = live_domain_object("arn:aws:acm:eu-west-1:1:certificate/abc", "EDGE", "TLS_1_2");
       },
       {"UpdateDomainName ~ domain name ws.example.com: endpoint type EDGE -> REGIONAL"}},
      {"security policy made elsewhere (TLS_1_0) changed to the file's",
       [](domain_config&, live_domain& live) {
         live.domain = live_domain_object("arn:aws:acm:eu-west-1:1:certificate/abc", "REGIONAL", "TLS_1_0");
       },
       {"UpdateDomainName ~ domain name ws.example.com: security policy TLS_1_0 -> TLS_1_2"}},
      {"two differences in one update",
       [](domain_config& d, live_domain& live) {
         d.certificate_arn = "arn:x";
         live.domain = live_domain_object("arn:aws:acm:eu-west-1:1:certificate/abc", "REGIONAL", "TLS_1_0");
       },
       {"UpdateDomainName ~ domain name ws.example.com: certificate arn:aws:acm:eu-west-1:1:certificate/abc -> "
        "arn:x, security policy TLS_1_0 -> TLS_1_2"}},
      {"endpoint type and policy left out keep the domain's own",
       [](domain_config& d, live_domain& live) {
         d.endpoint_type.clear();
         d.security_policy.clear();
         live.domain = live_domain_object("arn:aws:acm:eu-west-1:1:certificate/abc", "EDGE", "TLS_1_0");
       },
       {}},
      {"mapping points at another API",
       [](domain_config&, live_domain& live) { live.mappings.front()["apiId"] = "api0"; },
       {"UpdateApiMapping ~ API mapping ws.example.com/ -> API api1 stage production (was api0 production)"}},
      {"mapping points at another stage",
       [](domain_config&, live_domain& live) { live.mappings.front()["stage"] = "beta"; },
       {"UpdateApiMapping ~ API mapping ws.example.com/ -> API api1 stage production (was api1 beta)"}},
      {"a mapping at another base path does not count",
       [](domain_config& d, live_domain&) { d.base_path = "v2"; },
       {"CreateApiMapping + API mapping ws.example.com/v2 -> API api1 stage production"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    domain_config d{"ws.example.com", cert, "", "", "REGIONAL", "TLS_1_2"};
    live_domain live;
    live.domain = live_domain_object(cert, "REGIONAL", "TLS_1_2");
    live.mappings.push_back(
        object{{"apiMappingId", "m1"}, {"apiMappingKey", ""}, {"apiId", "api1"}, {"stage", "production"}});
    c.change(d, live);
    EXPECT_EQ(summary(plan_domain(d, live, "api1", "production")), c.expected);
  }
}

TEST(PlanDomainBodies, CreateAndUpdateBodies) {
  domain_config d{"ws.example.com", "arn:new", "Z9", "v1", "", ""};
  auto ops = plan_domain(d, live_domain{}, "api1", "prod");
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(
      json::serialize(ops[0].body),
      R"({"domainName":"ws.example.com","domainNameConfigurations":[{"certificateArn":"arn:new","endpointType":"REGIONAL","securityPolicy":"TLS_1_2","hostedZoneId":"Z9"}]})");
  EXPECT_EQ(json::serialize(ops[1].body), R"({"apiId":"api1","stage":"prod","apiMappingKey":"v1"})");

  // The update sends only what UpdateDomainName accepts, and keeps the other configurations.
  live_domain live;
  live.domain = live_domain_object("arn:old", "REGIONAL", "TLS_1_2");
  live.domain->at("domainNameConfigurations").as_array().push_back(object{{"certificateArn", "arn:second"}});
  live.mappings.push_back(
      object{{"apiMappingId", "m1"}, {"apiMappingKey", "v1"}, {"apiId", "api0"}, {"stage", "prod"}});
  ops = plan_domain(d, live, "api1", "prod");
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].target, "ws.example.com");
  EXPECT_EQ(
      json::serialize(ops[0].body),
      R"({"domainNameConfigurations":[{"certificateArn":"arn:new","endpointType":"REGIONAL","securityPolicy":"TLS_1_2"},{"certificateArn":"arn:second"}]})");
  EXPECT_EQ(ops[1].kind, op::update_api_mapping);
  EXPECT_EQ(ops[1].target, "m1");
  EXPECT_EQ(json::serialize(ops[1].body), R"({"apiId":"api1","stage":"prod"})");
  EXPECT_EQ(domain_target(*live.domain), "d-abc.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(domain_certificate(*live.domain), "arn:old");
}

}  // namespace
}  // namespace apigw::provision
