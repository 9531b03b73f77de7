// Unit tests of the HTTP_PROXY request builder (spec §3.1-3.3): URL, headers, mappings.
#include "gateway/integration.hpp"

#include <gtest/gtest.h>

namespace apigw::gateway::detail {
namespace {

struct fixture {
  api_config api;
  stage_config stage{"dev", {{"host", "127.0.0.1:9000"}, {"color", "blue"}}};
  integration_config integ;
  handshake_info hs;
  integration_call call;

  fixture() {
    api.id = "abcdefghij";
    integ.id = "i1";
    integ.uri = "http://${stageVariables.host}/ws/{room}?fixed=1";
    hs.headers = {{"Host", "gw"},         {"Connection", "Upgrade"}, {"Upgrade", "websocket"},
                  {"User-Agent", "ua/1"}, {"Origin", "https://o"},   {"X-Forwarded-For", "10.0.0.1"}};
    hs.query = "channel=a%20b&x=1&x=2";
    hs.source_ip = "127.0.0.1";
    hs.forwarded_for = "10.0.0.1, 127.0.0.1";
    hs.user_agent = "ua/1";
    call.api = &api;
    call.stage = &stage;
    call.integration = &integ;
    call.connection_id = "R1kmxc2VNjMCFIA=";
    call.trace_id = "Root=1-00000000-000000000000000000000000";
    call.handshake = &hs;
  }
};

std::string get(const net::http_request& r, std::string_view name) {
  return std::string(net::find_header(r.headers, name).value_or("<absent>"));
}

TEST(IntegrationRequest, ConnectAppendsQueryAndForwardsHeaders) {
  fixture f;
  f.call.kind = event_kind::connect;
  f.call.route_key = "$connect";
  f.integ.request_parameters = {{"integration.request.path.room", "'lobby 1'"},
                                {"integration.request.header.connectionId", "context.connectionId"},
                                {"integration.request.header.X-Chan", "route.request.querystring.channel"},
                                {"integration.request.header.X-All", "route.request.multivaluequerystring.x"},
                                {"integration.request.querystring.color", "stageVariables.color"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->origin.host, "127.0.0.1");
  EXPECT_EQ(r->origin.port, 9000);
  EXPECT_EQ(r->target, "/ws/lobby%201?fixed=1&channel=a%20b&x=1&x=2&color=blue");
  EXPECT_EQ(get(*r, "Host"), "127.0.0.1:9000");
  EXPECT_EQ(get(*r, "User-Agent"), "ua/1");
  EXPECT_EQ(get(*r, "Origin"), "https://o");
  EXPECT_EQ(get(*r, "Connection"), "<absent>");
  EXPECT_EQ(get(*r, "Upgrade"), "<absent>");
  EXPECT_EQ(get(*r, "X-Forwarded-For"), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(get(*r, "connectionId"), "R1kmxc2VNjMCFIA=");
  EXPECT_EQ(get(*r, "X-Chan"), "a b");
  EXPECT_EQ(get(*r, "X-All"), "1,2");
  EXPECT_EQ(get(*r, "Content-Type"), "<absent>");
  EXPECT_EQ(r->body, "");
}

TEST(IntegrationRequest, MessageHasGatewayUserAgentAndBody) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/default";
  f.call.kind = event_kind::message;
  f.call.route_key = "$default";
  f.call.body = message_body(R"({"action":"x","room":"r1"})");
  f.integ.request_parameters = {{"integration.request.header.X-Room", "route.request.body.room"},
                                {"integration.request.header.X-Origin", "route.request.header.Origin"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, "/ws/default");
  EXPECT_EQ(get(*r, "User-Agent"), "AmazonAPIGateway_abcdefghij");
  EXPECT_EQ(get(*r, "Origin"), "<absent>");
  EXPECT_EQ(get(*r, "X-Origin"), "<absent>");
  EXPECT_EQ(get(*r, "X-Room"), "r1");
  EXPECT_EQ(get(*r, "Content-Type"), "application/json");
  EXPECT_EQ(get(*r, "X-Forwarded-Proto"), "https");
  EXPECT_EQ(get(*r, "X-Forwarded-Port"), "443");
  EXPECT_EQ(get(*r, "X-Amzn-Apigateway-Api-Id"), "abcdefghij");
  EXPECT_EQ(r->body, f.call.body.text());

  f.call.body = message_body("plain");
  auto t = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(t);
  EXPECT_EQ(get(*t, "Content-Type"), "text/plain");
}

TEST(IntegrationRequest, DisconnectContextVariables) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/disconnect";
  f.call.kind = event_kind::disconnect;
  f.call.disconnect_status_code = 1001;
  f.call.disconnect_reason = "Going away";
  f.integ.request_parameters = {{"integration.request.header.X-Code", "context.disconnectStatusCode"},
                                {"integration.request.header.X-Reason", "context.disconnectReason"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r);
  EXPECT_EQ(get(*r, "X-Code"), "1001");
  EXPECT_EQ(get(*r, "X-Reason"), "Going away");
  EXPECT_EQ(get(*r, "User-Agent"), "AmazonAPIGateway_abcdefghij");
  EXPECT_EQ(r->body, "");
}

TEST(IntegrationRequest, BadUriAfterSubstitution) {
  fixture f;
  f.integ.uri = "http://${stageVariables.missing}/x";
  f.call.kind = event_kind::message;
  auto r = build_integration_request(f.call, request_options{});
  EXPECT_FALSE(r);
}

TEST(IntegrationRequest, TraceIdShape) {
  const auto t = new_trace_id(0x65ab0c11);
  EXPECT_EQ(t.substr(0, 16), "Root=1-65ab0c11-");
  EXPECT_EQ(t.size(), 16u + 24u);
}

}  // namespace
}  // namespace apigw::gateway::detail
