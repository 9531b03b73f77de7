// Unit tests of the route selection evaluator (spec §2.1).
#include "apigw/gateway/route_selection.hpp"

#include "apigw/gateway/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace apigw::gateway {
namespace {

std::optional<std::string> eval(std::string_view expr, std::string_view message) {
  auto e = parse_selection_expression(expr);
  EXPECT_TRUE(e) << expr;
  return e ? evaluate_selection(*e, message) : std::nullopt;
}

TEST(RouteSelection, ActionMemberOfJsonBody) {
  EXPECT_EQ(eval("$request.body.action", R"({"action":"join","x":1})"), "join");
}

TEST(RouteSelection, BracedAndCompositeExpressions) {
  EXPECT_EQ(eval("${request.body.service}/${request.body.action}", R"({"service":"chat","action":"join"})"),
            "chat/join");
  EXPECT_EQ(eval("${request.body.action}-${request.body.nope}", R"({"action":"join"})"), "join-");
  EXPECT_EQ(eval("$request.body.a.b", R"({"a":{"b":"deep"}})"), "deep");
  EXPECT_EQ(eval("${request.body.items[1]}", R"({"items":["x","y"]})"), "y");
}

TEST(RouteSelection, EscapedDollarIsLiteral) {
  EXPECT_EQ(eval("\\$default", R"({"action":"x"})"), "$default");
  EXPECT_EQ(eval("\\$default", "not json"), "$default");  // no variable: the body is not read
}

TEST(RouteSelection, NonStringValuesAreStringified) {
  EXPECT_EQ(eval("$request.body.action", R"({"action":1})"), "1");
  EXPECT_EQ(eval("$request.body.action", R"({"action":1.5})"), "1.5");
  EXPECT_EQ(eval("$request.body.action", R"({"action":true})"), "true");
  EXPECT_EQ(eval("$request.body.action", R"({"action":null})"), "");
  EXPECT_EQ(eval("$request.body.action", R"({"action":["item1","item2"]})"), "[item1, item2]");
  EXPECT_EQ(eval("$request.body.action", R"({"action":{"k":"v"}})"), R"({"k":"v"})");
}

TEST(RouteSelection, MissingPathIsEmpty) {
  EXPECT_EQ(eval("$request.body.action", R"({"other":"x"})"), "");
  EXPECT_EQ(eval("$request.body.a.b", R"({"a":"scalar"})"), "");
}

TEST(RouteSelection, NonObjectMessagesHaveNoValue) {
  EXPECT_EQ(eval("$request.body.action", "hello"), std::nullopt);
  EXPECT_EQ(eval("$request.body.action", "{broken"), std::nullopt);
  EXPECT_EQ(eval("$request.body.action", "[1,2]"), std::nullopt);
  EXPECT_EQ(eval("$request.body.action", "42"), std::nullopt);
  EXPECT_EQ(eval("$request.body.action", ""), std::nullopt);
}

TEST(RouteSelection, MalformedExpressionsAreRejected) {
  for (std::string_view bad : {"", "$request.header.x", "${request.body.action", "$request.body..x",
                               "${request.body[x]}", "$context.routeKey"}) {
    auto e = parse_selection_expression(bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error(), error::invalid_config) << bad;
  }
}

TEST(RouteSelection, SelectRouteExactThenDefaultThenNone) {
  const auto expr = parse_selection_expression("$request.body.action").value();
  std::set<std::string, std::less<>> routes{"join", "$default", "$connect"};
  const auto has = [&](std::string_view k) { return routes.contains(k); };
  EXPECT_EQ(select_route(expr, R"({"action":"join"})", has).route_key, "join");
  EXPECT_EQ(select_route(expr, R"({"action":"Join"})", has).route_key, "$default");  // case-sensitive
  EXPECT_EQ(select_route(expr, "plain text", has).route_key, "$default");
  EXPECT_EQ(select_route(expr, R"({"action":"$connect"})", has).route_key, "$default");  // reserved
  routes.erase("$default");
  EXPECT_EQ(select_route(expr, R"({"action":"nope"})", has).route_key, std::nullopt);
  EXPECT_EQ(select_route(expr, "plain text", has).route_key, std::nullopt);
}

// A message_body is parsed once and keeps that parse for the integration's mappings; it selects
// exactly as the text would.
TEST(RouteSelection, MessageBodyKeepsOneParseAndSelectsAsTheText) {
  const auto expr = parse_selection_expression("${request.body.service}/${request.body.action}").value();
  const auto has = [](std::string_view k) { return k == "chat/join" || k == "$default"; };
  for (const char* text : {R"({"service":"chat","action":"join"})", R"({"service":"chat"})", "[1]", "plain", ""}) {
    const message_body m{std::string(text)};
    EXPECT_EQ(evaluate_selection(expr, m), evaluate_selection(expr, std::string_view(text))) << text;
    EXPECT_EQ(select_route(expr, m, has).route_key, select_route(expr, std::string_view(text), has).route_key) << text;
    EXPECT_EQ(m.text(), text);
  }
  const message_body m{std::string(R"({"service":"chat","action":"join"})")};
  const json::value* first = m.parsed();
  ASSERT_NE(first, nullptr);
  (void)select_route(expr, m, has);
  EXPECT_EQ(m.parsed(), first);  // the same value, not a second parse
  EXPECT_EQ(message_body("not json").parsed(), nullptr);
  EXPECT_NE(message_body("[1, 2]").parsed(), nullptr);  // JSON of any kind; only selection needs an object
}

}  // namespace
}  // namespace apigw::gateway
