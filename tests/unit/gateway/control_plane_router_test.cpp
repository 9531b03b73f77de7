// Unit tests of the control plane's routing table: the AWS-shaped refusals of methods and paths
// that are not served (as they were before the table), path parameters, the choice of the most
// specific entry, and that every entry of the table can be reached.
#include "gateway/control_plane/router.hpp"

#include "gateway/control_plane.hpp"

#include <gtest/gtest.h>

#include <set>

namespace apigw::gateway::detail::cp {
namespace {

const clock::time_point k_now{std::chrono::seconds{1'741'168'800}};

// refusal: a request and the exact answer expected.
struct refusal {
  const char* method;
  const char* target;
  unsigned status;
  const char* type;
  const char* body;
};

TEST(ControlPlaneRouter, UnservedRequestsGetTheAwsErrorShapes) {
  constexpr std::string_view arn = "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fdevapi0001";
  const std::string put_arn(arn);
  const refusal cases[] = {
      {"GET", "/v2/", 404, "NotFoundException", R"({"message":"apigw-ws serves apis, domainnames and tags only"})"},
      {"GET", "/v2/restapis", 404, "NotFoundException",
       R"({"message":"apigw-ws serves apis, domainnames and tags only"})"},
      {"PUT", "/v2/apis", 400, "BadRequestException", R"({"message":"unsupported method"})"},
      {"get", "/v2/apis", 400, "BadRequestException", R"({"message":"unsupported method"})"},
      {"PUT", "/v2/apis/devapi0001", 400, "BadRequestException", R"({"message":"unsupported method"})"},
      {"PUT", "/v2/apis/nope", 404, "NotFoundException",
       R"({"message":"Invalid API identifier specified nope","resourceType":"API"})"},
      {"GET", "/v2/apis/dev%20api/routes", 404, "NotFoundException",
       R"({"message":"Invalid API identifier specified dev api","resourceType":"API"})"},
      {"GET", "/v2/apis/devapi0001/authorizers", 404, "NotFoundException",
       R"({"message":"apigw-ws does not serve authorizers yet"})"},
      {"GET", "/v2/apis/nope/authorizers", 404, "NotFoundException",
       R"({"message":"Invalid API identifier specified nope","resourceType":"API"})"},
      {"PUT", "/v2/apis/devapi0001/integrations", 400, "BadRequestException",
       R"({"message":"unsupported integrations request"})"},
      {"PUT", "/v2/apis/devapi0001/integrations/nope", 404, "NotFoundException",
       R"({"message":"Invalid Integration identifier specified nope","resourceType":"Integration"})"},
      {"GET", "/v2/apis/devapi0001/integrations/nope/x", 400, "BadRequestException",
       R"({"message":"unsupported integrations request"})"},
      {"PUT", "/v2/apis/devapi0001/routes", 400, "BadRequestException", R"({"message":"unsupported routes request"})"},
      {"GET", "/v2/apis/devapi0001/routes/nope/x/y", 404, "NotFoundException",
       R"({"message":"Invalid Route identifier specified nope","resourceType":"Route"})"},
      {"PUT", "/v2/apis/devapi0001/stages/dev", 400, "BadRequestException",
       R"({"message":"unsupported stages request"})"},
      {"GET", "/v2/apis/devapi0001/stages/nope/x", 400, "BadRequestException",
       R"({"message":"unsupported stages request"})"},
      {"DELETE", "/v2/apis/devapi0001/deployments", 400, "BadRequestException",
       R"({"message":"unsupported deployments request"})"},
      {"PATCH", "/v2/apis/devapi0001/deployments/nope", 404, "NotFoundException",
       R"({"message":"Invalid Deployment identifier specified nope","resourceType":"Deployment"})"},
      {"PUT", "/v2/domainnames", 400, "BadRequestException", R"({"message":"unsupported method"})"},
      {"GET", "/v2/domainnames/nope/apimappings", 404, "NotFoundException",
       R"({"message":"Invalid domain name identifier specified nope","resourceType":"domain name"})"},
      {"GET", "/v2/tags", 400, "BadRequestException", R"({"message":"unsupported tags request"})"},
      {"GET", "/v2/tags/a/b", 400, "BadRequestException", R"({"message":"unsupported tags request"})"},
      {"PUT", put_arn.c_str(), 400, "BadRequestException", R"({"message":"unsupported method"})"},
      {"GET", "/v2/tags/nothing", 404, "NotFoundException",
       R"({"message":"Invalid resource identifier specified nothing","resourceType":"resource"})"},
      {"GET", "/v2/apis/%zz", 400, "BadRequestException", R"({"message":"malformed path"})"},
      {"POST", "/v2/apis", 400, "BadRequestException",
       R"({"message":"Invalid request body: invalid JSON: syntax error"})"},
  };
  control_plane cp{default_dev_config(), k_now};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    const std::string_view body = std::string_view(c.method) == "POST" ? "{bad" : "{}";
    const auto a = cp.handle(c.method, c.target, body, k_now);
    EXPECT_EQ(a.response.status, c.status);
    ASSERT_EQ(a.response.headers.size(), 2u);
    EXPECT_EQ(a.response.headers[0].name, "x-amzn-ErrorType");
    EXPECT_EQ(a.response.headers[0].value, c.type);
    EXPECT_EQ(a.response.headers[1].name, "Content-Type");
    EXPECT_EQ(a.response.headers[1].value, "application/json");
    EXPECT_EQ(a.response.body, c.body);
    EXPECT_FALSE(a.changed);
  }
}

// echo: answers 200 {"params": [...]} with the request's parameters.
answer echo(model&, const request& r) {
  json::array params;
  for (const auto& p : r.params) params.push_back(json::string(p));
  return json_answer(200, json::object{{"params", std::move(params)}}, false);
}
answer other(model&, const request&) {
  return no_content(false);
}

std::vector<std::string> segments(std::initializer_list<const char*> s) {
  return {s.begin(), s.end()};
}

TEST(ControlPlaneRouter, PathParametersAreExtractedInOrderWithTheRest) {
  const router r({{"GET", "/apis/{apiId}/routes/{routeId}", echo}, {"*", "/tags/{arn}/**", echo}});
  auto m = r.find("GET", segments({"apis", "a b", "routes", "r1"}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params, segments({"a b", "r1"}));
  m = r.find("DELETE", segments({"tags", "arn:x", "y", "z"}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params, segments({"arn:x", "y", "z"}));
  m = r.find("DELETE", segments({"tags", "arn:x"}));  // "**" matches nothing too
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params, segments({"arn:x"}));
  EXPECT_FALSE(r.find("POST", segments({"apis", "a", "routes", "r1"})));
  EXPECT_FALSE(r.find("GET", segments({"apis", "a", "routes"})));
  EXPECT_FALSE(r.find("GET", segments({"apis", "a", "routes", "r1", "x"})));
  EXPECT_FALSE(r.find("GET", segments({"tags"})));
}

TEST(ControlPlaneRouter, TheMostSpecificEntryWinsWhateverTheOrder) {
  const std::vector<route> entries = {
      {"*", "/**", other},
      {"*", "/apis/**", other},
      {"*", "/apis/{apiId}", other},
      {"GET", "/apis/{apiId}", echo},
      {"*", "/apis/{apiId}/**", other},
      {"*", "/apis/{apiId}/routes", other},
  };
  for (int reversed = 0; reversed < 2; ++reversed) {
    auto table = entries;
    if (reversed) std::reverse(table.begin(), table.end());
    const router r(table);
    const auto pick = [&](std::string_view method, std::vector<std::string> seg) {
      auto m = r.find(method, seg);
      EXPECT_TRUE(m);
      return m ? std::string(m->entry->method) + " " + std::string(m->entry->pattern) : std::string();
    };
    EXPECT_EQ(pick("GET", segments({"apis", "a"})), "GET /apis/{apiId}");                 // exact method over "*"
    EXPECT_EQ(pick("PUT", segments({"apis", "a"})), "* /apis/{apiId}");                   // no "**" over "**"
    EXPECT_EQ(pick("GET", segments({"apis", "a", "routes"})), "* /apis/{apiId}/routes");  // more segments
    EXPECT_EQ(pick("GET", segments({"apis", "a", "models"})), "* /apis/{apiId}/**");
    EXPECT_EQ(pick("GET", segments({"apis"})), "* /apis/**");  // a literal over nothing
    EXPECT_EQ(pick("GET", segments({})), "* /**");
  }
}

// instances: concrete (method, segments) for an entry: "p0".. for parameters, "**" as nothing
// and as one segment, "*" as each method.
std::vector<std::pair<std::string, std::vector<std::string>>> instances(const route& e) {
  std::vector<std::string> base;
  bool rest = false;
  int n = 0;
  for (auto s : split_pattern(e.pattern)) {
    if (s == "**") {
      rest = true;
    } else if (s.starts_with('{')) {
      base.push_back("p" + std::to_string(n++));
    } else {
      base.emplace_back(s);
    }
  }
  std::vector<std::vector<std::string>> paths{base};
  if (rest) {
    paths.push_back(base);
    paths.back().push_back("more");
  }
  std::vector<std::string> methods;
  if (e.method == "*") {
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
  } else {
    methods = {std::string(e.method)};
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& m : methods) {
    for (const auto& p : paths) out.emplace_back(m, p);
  }
  return out;
}

TEST(ControlPlaneRouter, EveryEntryOfTheTableIsReachable) {
  const auto& r = control_plane_router();
  ASSERT_GT(r.table().size(), 50u);
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& e : r.table()) {
    SCOPED_TRACE(std::string(e.method) + " " + std::string(e.pattern));
    EXPECT_NE(e.fn, nullptr);
    EXPECT_TRUE(seen.emplace(e.method, e.pattern).second) << "listed twice";
    bool reached = false;
    for (const auto& [method, seg] : instances(e)) {
      auto m = r.find(method, seg);
      ASSERT_TRUE(m);  // "/**" catches everything
      reached = reached || m->entry == &e;
    }
    EXPECT_TRUE(reached) << "shadowed by a more specific entry";
  }
}

TEST(ControlPlaneRouter, EveryServedOperationHasItsEntry) {
  // The apigatewayv2 operations this gateway serves (spec §6), as the SDKs send them.
  const std::pair<const char*, const char*> operations[] = {
      {"GET", "/apis"},
      {"POST", "/apis"},
      {"GET", "/apis/{apiId}"},
      {"PATCH", "/apis/{apiId}"},
      {"DELETE", "/apis/{apiId}"},
      {"GET", "/apis/{apiId}/integrations"},
      {"POST", "/apis/{apiId}/integrations"},
      {"GET", "/apis/{apiId}/integrations/{integrationId}"},
      {"PATCH", "/apis/{apiId}/integrations/{integrationId}"},
      {"DELETE", "/apis/{apiId}/integrations/{integrationId}"},
      {"GET", "/apis/{apiId}/integrations/{integrationId}/integrationresponses"},
      {"POST", "/apis/{apiId}/integrations/{integrationId}/integrationresponses"},
      {"GET", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"},
      {"PATCH", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"},
      {"DELETE", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"},
      {"GET", "/apis/{apiId}/routes"},
      {"POST", "/apis/{apiId}/routes"},
      {"GET", "/apis/{apiId}/routes/{routeId}"},
      {"PATCH", "/apis/{apiId}/routes/{routeId}"},
      {"DELETE", "/apis/{apiId}/routes/{routeId}"},
      {"GET", "/apis/{apiId}/routes/{routeId}/routeresponses"},
      {"POST", "/apis/{apiId}/routes/{routeId}/routeresponses"},
      {"GET", "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}"},
      {"DELETE", "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}"},
      {"GET", "/apis/{apiId}/stages"},
      {"POST", "/apis/{apiId}/stages"},
      {"GET", "/apis/{apiId}/stages/{stageName}"},
      {"PATCH", "/apis/{apiId}/stages/{stageName}"},
      {"DELETE", "/apis/{apiId}/stages/{stageName}"},
      {"GET", "/apis/{apiId}/deployments"},
      {"POST", "/apis/{apiId}/deployments"},
      {"GET", "/apis/{apiId}/deployments/{deploymentId}"},
      {"GET", "/domainnames"},
      {"POST", "/domainnames"},
      {"GET", "/domainnames/{domainName}"},
      {"PATCH", "/domainnames/{domainName}"},
      {"DELETE", "/domainnames/{domainName}"},
      {"GET", "/domainnames/{domainName}/apimappings"},
      {"POST", "/domainnames/{domainName}/apimappings"},
      {"GET", "/domainnames/{domainName}/apimappings/{apiMappingId}"},
      {"PATCH", "/domainnames/{domainName}/apimappings/{apiMappingId}"},
      {"DELETE", "/domainnames/{domainName}/apimappings/{apiMappingId}"},
      {"GET", "/tags/{resourceArn}"},
      {"POST", "/tags/{resourceArn}"},
      {"DELETE", "/tags/{resourceArn}"},
  };
  const auto& r = control_plane_router();
  for (const auto& [method, pattern] : operations) {
    SCOPED_TRACE(std::string(method) + " " + pattern);
    std::vector<std::string> seg;
    for (auto s : split_pattern(pattern)) seg.emplace_back(s.starts_with('{') ? "x" : s);
    auto m = r.find(method, seg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->entry->method, method);  // an operation's own entry, not a refusal
  }
}

}  // namespace
}  // namespace apigw::gateway::detail::cp
