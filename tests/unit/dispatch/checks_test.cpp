// Tests of the pure checks: channel names, origins, hosts, X-Forwarded-For, user agents.
#include "apigw/dispatch/checks.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace apigw::dispatch {
namespace {

TEST(checks, channel_names) {
  EXPECT_TRUE(is_valid_channel_name("general"));
  EXPECT_TRUE(is_valid_channel_name("A-b_9"));
  EXPECT_TRUE(is_valid_channel_name(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_channel_name(std::string(129, 'x')));
  EXPECT_FALSE(is_valid_channel_name(""));
  for (const char* bad : {"a b", "a.b", "a/b", "a\nb", "caf\xc3\xa9", "a%20b"})
    EXPECT_FALSE(is_valid_channel_name(bad)) << bad;
}

TEST(checks, origins_normalize) {
  EXPECT_EQ(normalize_origin("HTTPS://Example.COM:443"), "https://example.com");
  EXPECT_EQ(normalize_origin("http://example.com:80/"), "http://example.com");
  EXPECT_EQ(normalize_origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(normalize_origin("http://[::1]:8080"), "http://[::1]:8080");
  for (const char* bad :
       {"null", "", "example.com", "https://", "https://a.com/path", "https://user@a.com", "https://a.com:x"}) {
    EXPECT_FALSE(normalize_origin(bad)) << bad;
  }
}

// A malformed bracket host used to lose its port and come out as "http://[:", which no longer
// normalised (the fuzz invariant normalize(normalize(x)) == normalize(x) aborted on it).
TEST(checks, origins_with_malformed_hosts_are_refused_and_normalising_is_idempotent) {
  for (const char* bad : {"http://[::80", "http://[::1", "http://::1]", "http://[]", "http://[]:80", "http://a:b:80",
                          "http://[::1]x", "http://x[::1]", "http://[::1]]:80", "http://[[::1]]", "http://[g::1]"}) {
    EXPECT_EQ(normalize_origin(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(normalize_origin("http://[::1]:80"), "http://[::1]");
  EXPECT_EQ(normalize_origin("HTTP://[::FFFF:127.0.0.1]:8080/"), "http://[::ffff:127.0.0.1]:8080");
  for (const char* in : {"http://[::80", "http://[::1]:80", "HTTPS://Example.COM:443", "http://a.b:0080", "x://h:1"}) {
    if (const auto once = normalize_origin(in)) EXPECT_EQ(normalize_origin(*once), once) << in;
  }
}

TEST(checks, origins_match_exactly) {
  const std::vector<std::string> allowed{"https://example.com", "http://localhost:3000"};
  EXPECT_TRUE(origin_allowed("https://example.com", allowed));
  EXPECT_TRUE(origin_allowed("https://EXAMPLE.com:443", allowed));
  EXPECT_TRUE(origin_allowed("http://localhost:3000", allowed));
  EXPECT_FALSE(origin_allowed("https://evil-example.com", allowed));
  EXPECT_FALSE(origin_allowed("https://example.com.evil.test", allowed));
  EXPECT_FALSE(origin_allowed("https://sub.example.com", allowed));
  EXPECT_FALSE(origin_allowed("http://example.com", allowed));
  EXPECT_FALSE(origin_allowed("http://localhost:3001", allowed));
  EXPECT_FALSE(origin_allowed("null", allowed));
}

TEST(checks, hosts_follow_allowed_hosts_semantics) {
  const std::vector<std::string> allowed{".example.com", "api.test"};
  EXPECT_TRUE(host_allowed("example.com", allowed));
  EXPECT_TRUE(host_allowed("ws.example.com", allowed));
  EXPECT_TRUE(host_allowed("a.b.example.com:8443", allowed));
  EXPECT_TRUE(host_allowed("API.test", allowed));
  EXPECT_FALSE(host_allowed("badexample.com", allowed));
  EXPECT_FALSE(host_allowed("example.com.evil", allowed));
  EXPECT_FALSE(host_allowed("sub.api.test", allowed));
  EXPECT_FALSE(host_allowed("", allowed));
  EXPECT_TRUE(host_allowed("anything", std::vector<std::string>{"*"}));
  EXPECT_TRUE(host_allowed("anything", std::vector<std::string>{}));
  EXPECT_EQ(host_without_port("[::1]:80"), "::1");
  EXPECT_EQ(host_without_port("Example.com:80"), "example.com");
}

TEST(checks, origin_host_equality_is_exact) {
  EXPECT_TRUE(origin_matches_host("https://example.com", "example.com"));
  EXPECT_TRUE(origin_matches_host("http://127.0.0.1:8000", "127.0.0.1:9000"));
  EXPECT_FALSE(origin_matches_host("https://evil-example.com", "example.com"));
  EXPECT_FALSE(origin_matches_host("https://example.com.evil", "example.com"));
  EXPECT_FALSE(origin_matches_host("null", "example.com"));
}

TEST(checks, forwarded_for_trusts_only_the_configured_hops) {
  EXPECT_EQ(client_ip("203.0.113.10"), "203.0.113.10");
  EXPECT_EQ(client_ip("1.2.3.4, 203.0.113.10"), "203.0.113.10");
  EXPECT_EQ(client_ip("1.2.3.4, 203.0.113.10, 10.0.0.1", 2), "203.0.113.10");
  EXPECT_EQ(client_ip("203.0.113.10", 3), "203.0.113.10");
  EXPECT_EQ(client_ip(" 2001:db8::1 "), "2001:db8::1");
  EXPECT_FALSE(client_ip("not-an-ip"));
  EXPECT_FALSE(client_ip(""));
  EXPECT_FALSE(client_ip("1.2.3.4, "));
  EXPECT_TRUE(is_ip_address("::1"));
  EXPECT_FALSE(is_ip_address("1.2.3"));
}

TEST(checks, gateway_user_agent) {
  EXPECT_EQ(gateway_user_agent("abc123"), "AmazonAPIGateway_abc123");
}

}  // namespace
}  // namespace apigw::dispatch
