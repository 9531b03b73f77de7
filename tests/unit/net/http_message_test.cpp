#include "apigw/net/http_message.hpp"

#include <gtest/gtest.h>

namespace apigw::net {
namespace {

TEST(net_http_message, header_lookup_ignores_case) {
  http_headers h{{"X-Amzn-ErrorType", "GoneException"}, {"Content-Type", "application/json"}};
  EXPECT_EQ(find_header(h, "x-amzn-errortype"), "GoneException");
  EXPECT_EQ(find_header(h, "CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(find_header(h, "Authorization"));
}

TEST(net_http_message, set_header_replaces_every_spelling) {
  http_headers h{{"host", "a"}, {"Host", "b"}, {"X", "1"}};
  set_header(h, "HOST", "c");
  ASSERT_EQ(h.size(), 2U);
  EXPECT_EQ(find_header(h, "host"), "c");
  EXPECT_EQ(h.back().name, "HOST");
}

TEST(net_http_message, iequals) {
  EXPECT_TRUE(iequals("abc", "ABC"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
}

}  // namespace
}  // namespace apigw::net
