// Integration tests of the Management API client against the fake @connections server: the
// wire form of each operation, every error mapping, and SigV4 headers.
#include "apigw/mgmt/management_client.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "support/connections_server.hpp"
#include "support/io_runner.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace apigw::mgmt {
namespace {

using namespace std::chrono_literals;
using testing::connections_server;
using testing::io_runner;
using testing::reply;

struct mgmt_client : ::testing::Test {
  io_runner io;
  connections_server server;
  net::http_client_pool pool{io.executor(), pool_options()};

  static net::client_pool_options pool_options() {
    net::client_pool_options o;
    o.timeouts.read = 300ms;
    return o;
  }

  management_client client(const std::string& base = "/dev", management_client::options opts = {}) {
    auto c = management_client::create(pool, server.endpoint(base), std::move(opts));
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }
};

TEST_F(mgmt_client, post_sends_raw_bytes_to_the_encoded_path) {
  auto c = client();
  auto r = io.run(c.post_to_connection("R1kmxc2VNjMCFIA=", R"({"type":"toast"})"));
  ASSERT_TRUE(r) << r.error().message;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/dev/@connections/R1kmxc2VNjMCFIA%3D");
  EXPECT_EQ(reqs[0].connection_id, "R1kmxc2VNjMCFIA=");
  EXPECT_EQ(reqs[0].body, R"({"type":"toast"})");
  EXPECT_FALSE(net::find_header(reqs[0].headers, "Content-Type"));
  EXPECT_FALSE(net::find_header(reqs[0].headers, "Authorization"));  // no credentials configured
  EXPECT_EQ(net::find_header(reqs[0].headers, "Host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST_F(mgmt_client, custom_domain_base_path_is_kept) {
  auto c = client("/base/v1/");
  ASSERT_TRUE(io.run(c.post_to_connection("a+b/c=", "x")));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].target, "/base/v1/@connections/a%2Bb%2Fc%3D");
  EXPECT_EQ(reqs[0].base_path, "/base/v1");
}

TEST_F(mgmt_client, get_connection_parses_times_and_identity) {
  auto c = client();
  auto r = io.run(c.get_connection("L0SM9cOFvHcCIhw="));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(format_iso8601(r->connected_at), "2025-03-05T10:00:00.120Z");
  EXPECT_EQ(format_iso8601(r->last_active_at), "2025-03-05T10:00:05.456Z");
  EXPECT_EQ(r->identity.source_ip, "203.0.113.7");
  EXPECT_EQ(r->identity.user_agent, "Mozilla/5.0 (test)");
  EXPECT_EQ(server.requests().at(0).method, "GET");
}

TEST_F(mgmt_client, delete_connection_accepts_204) {
  auto c = client();
  auto r = io.run(c.delete_connection("L0SM9cOFvHcCIhw="));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(server.requests().at(0).method, "DELETE");
  server.script("L0SM9cOFvHcCIhw=", {reply{410}});
  auto again = io.run(c.delete_connection("L0SM9cOFvHcCIhw="));
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error() == condition::connection_gone);
}

struct status_case {
  unsigned status;
  condition expected;
  error code;
};

TEST_F(mgmt_client, each_error_status_maps_to_its_condition) {
  auto c = client();
  const status_case cases[] = {
      {410, condition::connection_gone, error::gone},
      {403, condition::forbidden, error::forbidden},
      {413, condition::payload_too_large, error::payload_too_large},
      {429, condition::throttled, error::limit_exceeded},
      {500, condition::server_error, error::server_error},
      {400, condition::invalid_argument, error::bad_request},
  };
  int n = 0;
  for (const auto& tc : cases) {
    const std::string id = "case" + std::to_string(n++) + "AAAAAAAAAA=";
    server.script(id, {reply{tc.status}});
    auto r = io.run(c.post_to_connection(id, "x"));
    ASSERT_FALSE(r) << tc.status;
    EXPECT_TRUE(r.error() == tc.expected) << tc.status << ": " << r.error().message;
    EXPECT_TRUE(r.error() == tc.code) << tc.status;
    EXPECT_NE(r.error().message.find(std::to_string(tc.status)), std::string::npos) << r.error().message;
    EXPECT_EQ(is_retryable(r.error().code), tc.status == 429 || tc.status == 500) << tc.status;
  }
  auto get_gone = io.run(c.get_connection("case0AAAAAAAAAA="));
  ASSERT_FALSE(get_gone);
  EXPECT_TRUE(get_gone.error() == condition::connection_gone);
}

TEST_F(mgmt_client, dropped_connection_and_slow_server_are_network_error_and_timeout) {
  auto c = client();
  server.script("dropAAAAAAAAAAA=", {reply{200, 0ms, true}});
  auto dropped = io.run(c.post_to_connection("dropAAAAAAAAAAA=", "x"));
  ASSERT_FALSE(dropped);
  EXPECT_TRUE(dropped.error() == condition::network_error) << dropped.error().message;
  EXPECT_TRUE(dropped.error() == error::network_error);

  server.script("slowAAAAAAAAAAA=", {reply{200, 1000ms}});
  auto slow = io.run(c.post_to_connection("slowAAAAAAAAAAA=", "x"));
  ASSERT_FALSE(slow);
  EXPECT_TRUE(slow.error() == condition::timeout) << slow.error().message;
  EXPECT_TRUE(slow.error() == error::timeout);
}

TEST_F(mgmt_client, invalid_id_and_oversize_data_are_refused_before_sending) {
  auto c = client();
  auto bad_id = io.run(c.post_to_connection("abc def", "x"));
  ASSERT_FALSE(bad_id);
  EXPECT_TRUE(bad_id.error() == error::invalid_connection_id);
  EXPECT_TRUE(bad_id.error() == condition::invalid_argument);
  auto too_big = io.run(c.post_to_connection("L0SM9cOFvHcCIhw=", std::string(k_max_message_bytes + 1, 'x')));
  ASSERT_FALSE(too_big);
  EXPECT_TRUE(too_big.error() == condition::payload_too_large);
  EXPECT_NE(too_big.error().message.find("131073"), std::string::npos) << too_big.error().message;
  EXPECT_EQ(server.request_count(), 0U);
  auto at_limit = io.run(c.post_to_connection("L0SM9cOFvHcCIhw=", std::string(k_max_message_bytes, 'x')));
  EXPECT_TRUE(at_limit) << at_limit.error().message;
}

TEST_F(mgmt_client, signs_with_sigv4_when_credentials_are_given) {
  manual_clock clk{clock::time_point{std::chrono::seconds{1440938160}}};  // 2015-08-30T12:36:00Z
  management_client::options opts;
  opts.signing.credentials = sigv4::credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  opts.signing.region = "us-east-1";
  opts.clk = &clk;
  auto c = client("/dev", opts);
  ASSERT_TRUE(io.run(c.post_to_connection("R1kmxc2VNjMCFIA=", "hello")));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  auto auth = net::find_header(reqs[0].headers, "authorization");
  ASSERT_TRUE(auth);
  const std::regex shape(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, "
      "SignedHeaders=([a-z0-9-]+;)*host(;[a-z0-9-]+)*, Signature=[0-9a-f]{64}");
  EXPECT_TRUE(std::regex_match(std::string(*auth), shape)) << *auth;
  EXPECT_EQ(net::find_header(reqs[0].headers, "x-amz-date"), "20150830T123600Z");
  EXPECT_FALSE(net::find_header(reqs[0].headers, "x-amz-security-token"));

  opts.signing.credentials->session_token = "session-token-value";
  auto temp = client("/dev", opts);
  ASSERT_TRUE(io.run(temp.post_to_connection("R1kmxc2VNjMCFIA=", "hello")));
  EXPECT_EQ(net::find_header(server.requests().at(1).headers, "x-amz-security-token"), "session-token-value");
}

TEST_F(mgmt_client, credentials_without_a_known_region_are_refused) {
  management_client::options opts;
  opts.signing.credentials = sigv4::credentials{"AKIDEXAMPLE", "secret", ""};
  auto c = management_client::create(pool, server.endpoint("/dev"), opts);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error() == error::invalid_endpoint);
}

}  // namespace
}  // namespace apigw::mgmt
