// Unit tests of the HTTP_PROXY request builder (spec §3.1-3.3): URL, headers, mappings.
#include "gateway/integration.hpp"

#include "apigw/gateway/error.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

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

// A mapped value is client-controlled: CR, LF, NUL or another control character in it, or more than
// 8 KiB of it, fails the request instead of reaching the backend's header block.
TEST(IntegrationRequest, UnsafeMappedValuesFailTheRequest) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/default";
  f.call.kind = event_kind::message;
  f.integ.request_parameters = {{"integration.request.header.connectionId", "context.connectionId"},
                                {"integration.request.header.X-Value", "route.request.body.value"}};
  const auto with_value = [&](std::string value) {
    json::object body{{"action", "probe"}, {"value", value}};
    f.call.body = message_body(json::serialize(body));
    return build_integration_request(f.call, request_options{});
  };
  for (const std::string& bad :
       {std::string("x\r\nconnectionId: OTHER"), std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3),
        std::string("a\x01z"), std::string("a\x7f"), std::string("\r\n\r\nPOST /ws/disconnect HTTP/1.1\r\n\r\n"),
        std::string(k_max_header_value + 1, 'v')}) {
    auto r = with_value(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error() == error::integration_failed);
    EXPECT_NE(r.error().message.find("X-Value"), std::string::npos) << r.error().message;
  }
  for (const std::string& good :
       {std::string("a\tb"), std::string("caf\xc3\xa9"), std::string(k_max_header_value, 'v')}) {
    auto r = with_value(good);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(get(*r, "X-Value"), good);
  }
}

TEST(IntegrationRequest, UnsafePercentDecodedQueryValueFailsConnect) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/connect";
  f.call.kind = event_kind::connect;
  f.hs.query = "name=a%0D%0AX-Injected:1";
  f.integ.request_parameters = {{"integration.request.header.X-Name", "route.request.querystring.name"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::integration_failed);
  f.hs.query = "name=a%09b";
  r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(get(*r, "X-Name"), "a\tb");
}

TEST(IntegrationRequest, HeaderNamesMustBeTokens) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/default";
  f.call.kind = event_kind::message;
  for (const char* bad : {"X Bad", "X:Bad", "X(Bad)", "X\rBad", ""}) {
    f.integ.request_parameters = {{std::string("integration.request.header.") + bad, "'v'"}};
    EXPECT_FALSE(build_integration_request(f.call, request_options{})) << bad;
  }
  f.integ.request_parameters = {{"integration.request.header.X-Ok_1.~!", "'v'"}};
  EXPECT_TRUE(build_integration_request(f.call, request_options{}));
}

// A client's close reason is the one client text the gateway maps on its own; it is made printable
// so a reason with CR/LF neither injects a header nor costs the backend its $disconnect.
TEST(IntegrationRequest, DisconnectReasonIsMadePrintable) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/disconnect";
  f.call.kind = event_kind::disconnect;
  f.call.disconnect_reason = "bye\r\nconnectionId: OTHER";
  f.integ.request_parameters = {{"integration.request.header.connectionId", "context.connectionId"},
                                {"integration.request.header.X-Reason", "context.disconnectReason"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(get(*r, "X-Reason"), "bye  connectionId: OTHER");
  EXPECT_EQ(get(*r, "connectionId"), "R1kmxc2VNjMCFIA=");
}

// Gateway-owned headers (X-Amzn-*, X-Forwarded-*, connectionId) and every header the integration
// maps are never copied from the client, case-insensitively, even when the mapping has no value.
TEST(IntegrationRequest, ClientNeverSuppliesGatewayOwnedOrMappedHeaders) {
  fixture f;
  f.integ.uri = "http://127.0.0.1:9000/ws/connect";
  f.call.kind = event_kind::connect;
  f.hs.headers.push_back({"x-amzn-apigateway-api-id", "forged"});
  f.hs.headers.push_back({"X-Amzn-Trace-Id", "Root=forged"});
  f.hs.headers.push_back({"X-AMZN-Other", "forged"});
  f.hs.headers.push_back({"X-Forwarded-Host", "forged"});
  f.hs.headers.push_back({"CONNECTIONID", "forged"});
  f.hs.headers.push_back({"x-token", "forged"});
  f.integ.request_parameters = {{"integration.request.header.connectionId", "context.connectionId"},
                                {"integration.request.header.X-Token", "route.request.querystring.ws_token"}};
  auto r = build_integration_request(f.call, request_options{});
  ASSERT_TRUE(r) << r.error().message;
  const auto all = [&](std::string_view name) {
    std::vector<std::string> out;
    for (const auto& h : r->headers) {
      if (net::iequals(h.name, name)) out.push_back(h.value);
    }
    return out;
  };
  EXPECT_EQ(all("X-Amzn-Apigateway-Api-Id"), std::vector<std::string>{"abcdefghij"});
  EXPECT_EQ(all("X-Amzn-Trace-Id"), std::vector<std::string>{f.call.trace_id});
  EXPECT_TRUE(all("X-Amzn-Other").empty());
  EXPECT_TRUE(all("X-Forwarded-Host").empty());
  EXPECT_EQ(all("X-Forwarded-For"), std::vector<std::string>{"10.0.0.1, 127.0.0.1"});
  EXPECT_EQ(all("connectionId"), std::vector<std::string>{"R1kmxc2VNjMCFIA="});
  EXPECT_TRUE(all("X-Token").empty());  // no ws_token in the query: absent, not the client's value
  EXPECT_EQ(all("Origin"), std::vector<std::string>{"https://o"});
}

TEST(IntegrationRequest, TraceIdShape) {
  const auto t = new_trace_id(0x65ab0c11);
  EXPECT_EQ(t.substr(0, 16), "Root=1-65ab0c11-");
  EXPECT_EQ(t.size(), 16u + 24u);
}

}  // namespace
}  // namespace apigw::gateway::detail
