#include "apigw/net/url.hpp"

#include "apigw/net/error.hpp"

#include <gtest/gtest.h>

namespace apigw::net {
namespace {

TEST(net_url, parses_scheme_host_default_port_and_path) {
  auto u = parse_url("https://abc123.execute-api.eu-west-1.amazonaws.com/dev");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->origin.scheme, scheme::https);
  EXPECT_EQ(u->origin.host, "abc123.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(u->origin.port, 443);
  EXPECT_EQ(u->path, "/dev");
  EXPECT_EQ(u->origin.host_header(), "abc123.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(u->origin.key(), "https://abc123.execute-api.eu-west-1.amazonaws.com:443");
}

TEST(net_url, explicit_port_query_and_ipv6) {
  auto u = parse_url("http://127.0.0.1:4510/dev/x?a=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->origin.port, 4510);
  EXPECT_EQ(u->path, "/dev/x");
  EXPECT_EQ(u->query, "a=1");
  EXPECT_EQ(u->origin.host_header(), "127.0.0.1:4510");
  auto v6 = parse_url("http://[::1]:8080/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->origin.host, "::1");
  EXPECT_EQ(v6->origin.host_header(), "[::1]:8080");
  auto no_path = parse_url("http://localhost");
  ASSERT_TRUE(no_path);
  EXPECT_EQ(no_path->path, "");
  EXPECT_EQ(no_path->origin.port, 80);
}

TEST(net_url, errors_say_what_is_wrong) {
  struct bad_case {
    const char* text;
    const char* says;
  };
  const bad_case cases[] = {
      {"not a url", "not an absolute URL"}, {"ftp://host/x", "scheme \"ftp\""},     {"http:///nohost", "no host"},
      {"http://h:99999/", "out of range"},  {"https://user:pw@host/", "user info"}, {"https://host/#frag", "fragment"},
  };
  for (const auto& c : cases) {
    auto u = parse_url(c.text);
    ASSERT_FALSE(u) << c.text;
    EXPECT_TRUE(u.error() == error::invalid_url);
    EXPECT_TRUE(u.error() == condition::invalid_argument);
    EXPECT_NE(u.error().message.find(c.says), std::string::npos) << u.error().message;
  }
}

TEST(net_url, ip_literals) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("ws.example.com"));
}

}  // namespace
}  // namespace apigw::net
