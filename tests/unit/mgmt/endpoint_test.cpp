#include "apigw/mgmt/endpoint.hpp"

#include "apigw/mgmt/error.hpp"

#include <gtest/gtest.h>

namespace apigw::mgmt {
namespace {

TEST(mgmt_endpoint, execute_api_url_gives_stage_path_and_region) {
  auto ep = parse_endpoint("https://abc123.execute-api.eu-west-1.amazonaws.com/dev");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->origin.host, "abc123.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(ep->origin.port, 443);
  EXPECT_EQ(ep->base_path, "/dev");
  EXPECT_EQ(ep->region, "eu-west-1");
  EXPECT_EQ(connection_path(*ep, "R1kmxc2VNjMCFIA="), "/dev/@connections/R1kmxc2VNjMCFIA%3D");
}

TEST(mgmt_endpoint, custom_domain_keeps_its_base_path_and_drops_trailing_slashes) {
  auto ep = parse_endpoint("https://ws.example.com/base/");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->base_path, "/base");
  EXPECT_EQ(ep->region, "");
  EXPECT_EQ(ep->url, "https://ws.example.com/base");
  EXPECT_EQ(connection_path(*ep, "abc="), "/base/@connections/abc%3D");
  auto root = parse_endpoint("https://ws.example.com");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->base_path, "");
  EXPECT_EQ(connection_path(*root, "abc="), "/@connections/abc%3D");
  auto local = parse_endpoint("http://127.0.0.1:4510/prod/v2");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->origin.port, 4510);
  EXPECT_EQ(connection_path(*local, "x"), "/prod/v2/@connections/x");
}

TEST(mgmt_endpoint, ids_are_encoded_like_botocore) {
  EXPECT_EQ(encode_connection_id("L0SM9cOFvHcCIhw="), "L0SM9cOFvHcCIhw%3D");
  EXPECT_EQ(encode_connection_id("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(encode_connection_id("a+b"), "a%2Bb");
  EXPECT_EQ(encode_connection_id("a/b"), "a%2Fb");
  EXPECT_EQ(encode_connection_id("a b@\xff"), "a%20b%40%FF");
}

TEST(mgmt_endpoint, region_only_from_execute_api_hosts) {
  EXPECT_EQ(region_from_host("x.execute-api.us-east-1.amazonaws.com"), "us-east-1");
  EXPECT_EQ(region_from_host("x.execute-api.cn-north-1.amazonaws.com.cn"), "cn-north-1");
  EXPECT_EQ(region_from_host("x.execute-api.localhost"), "");
  EXPECT_EQ(region_from_host("execute-api.us-east-1.amazonaws.com"), "");
  EXPECT_EQ(region_from_host("x.execute-api.us-east-1.example.com"), "");
}

TEST(mgmt_endpoint, bad_urls_are_invalid_endpoint) {
  for (const char* text : {"abc123/dev", "ftp://h/dev", "https://h/dev?x=1", ""}) {
    auto ep = parse_endpoint(text);
    ASSERT_FALSE(ep) << text;
    EXPECT_TRUE(ep.error() == error::invalid_endpoint) << text;
    EXPECT_FALSE(ep.error().message.empty());
  }
}

}  // namespace
}  // namespace apigw::mgmt
