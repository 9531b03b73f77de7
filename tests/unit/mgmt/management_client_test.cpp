#include "apigw/mgmt/management_client.hpp"

#include "apigw/core/json.hpp"

#include <gtest/gtest.h>

namespace apigw::mgmt {
namespace {

net::http_response response(unsigned status, net::http_headers headers = {}, std::string body = {}) {
  return net::http_response{status, std::move(headers), std::move(body)};
}

TEST(mgmt_error_parsing, header_is_cut_at_colon_and_after_hash_in_any_case) {
  EXPECT_EQ(error_type_of(response(410, {{"x-amzn-ErrorType", "GoneException"}})), "GoneException");
  EXPECT_EQ(error_type_of(response(410, {{"X-AMZN-ERRORTYPE", "GoneException:http://internal.amazon.com/"}})),
            "GoneException");
  EXPECT_EQ(error_type_of(response(429, {{"x-amzn-errortype", "aws.protocols#LimitExceededException:foo"}})),
            "LimitExceededException");
}

TEST(mgmt_error_parsing, body_code_then_type_then_status) {
  EXPECT_EQ(error_type_of(response(400, {}, R"({"code":"BadRequestException","message":"m"})")), "BadRequestException");
  EXPECT_EQ(error_type_of(response(400, {}, R"({"Code":"X"})")), "X");
  EXPECT_EQ(error_type_of(response(400, {}, R"({"__type":"com.amazon#ThrottlingException"})")), "ThrottlingException");
  EXPECT_EQ(error_type_of(response(410)), "410");
  EXPECT_EQ(error_type_of(response(502, {}, "<html>bad gateway</html>")), "502");
}

TEST(mgmt_error_parsing, maps_types_and_statuses_to_errors) {
  struct error_case {
    net::http_response resp;
    error expected;
  };
  const error_case cases[] = {
      {response(410, {{"x-amzn-ErrorType", "GoneException"}}), error::gone},
      {response(410), error::gone},  // no header: still gone by status (JS v3 checks the status)
      {response(403, {{"x-amzn-ErrorType", "ForbiddenException"}}, R"({"message":"Forbidden"})"), error::forbidden},
      {response(403, {{"x-amzn-ErrorType", "InvalidSignatureException"}}), error::forbidden},
      {response(403, {{"x-amzn-ErrorType", "MissingAuthenticationTokenException"}}), error::forbidden},
      {response(413, {{"x-amzn-ErrorType", "PayloadTooLargeException"}}), error::payload_too_large},
      {response(429, {{"x-amzn-ErrorType", "LimitExceededException"}}), error::limit_exceeded},
      {response(400, {{"x-amzn-ErrorType", "ThrottlingException"}}), error::limit_exceeded},
      {response(429), error::limit_exceeded},
      {response(500, {}, R"({"message":"Internal server error"})"), error::server_error},
      {response(503, {}, "<html/>"), error::server_error},
      {response(400, {{"x-amzn-ErrorType", "BadRequestException"}}), error::bad_request},
      {response(404), error::bad_request},
      {response(301, {{"Location", "https://elsewhere/"}}), error::unexpected_status},
      // The header wins over the status, as in the SDKs.
      {response(400, {{"x-amzn-ErrorType", "GoneException"}}), error::gone},
  };
  for (const auto& c : cases) {
    const failure f = error_from_response(c.resp, "PostToConnection", "abc=");
    EXPECT_TRUE(f == c.expected) << c.resp.status << " " << f.message;
  }
}

TEST(mgmt_error_parsing, message_names_operation_id_status_type_and_body_message) {
  const failure f = error_from_response(
      response(413, {{"x-amzn-ErrorType", "PayloadTooLargeException"}}, R"({"message":"Message too long"})"),
      "PostToConnection", "abc=");
  EXPECT_EQ(f.message, "PostToConnection abc=: HTTP 413 PayloadTooLargeException: Message too long");
  const failure plain = error_from_response(response(502, {}, "Bad\r\nGateway"), "GetConnection", "x");
  EXPECT_EQ(plain.message, "GetConnection x: HTTP 502: Bad  Gateway");
}

TEST(mgmt_build_request, path_host_and_body_as_botocore_sends_them) {
  auto ep = parse_endpoint("https://ws.example.com/base");
  ASSERT_TRUE(ep);
  auto req = build_request(*ep, "POST", "a+b/c=", "data");
  ASSERT_TRUE(req) << req.error().message;
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->target, "/base/@connections/a%2Bb%2Fc%3D");
  EXPECT_EQ(net::find_header(req->headers, "Host"), "ws.example.com");
  EXPECT_FALSE(net::find_header(req->headers, "Content-Type"));
  EXPECT_EQ(req->body, "data");
  EXPECT_EQ(req->origin.port, 443);
  for (const char* id : {"-_-", "x=", "A1b2C3"}) EXPECT_TRUE(build_request(*ep, "GET", id)) << id;
}

TEST(mgmt_build_request, refuses_bad_ids_and_oversize_data) {
  auto ep = parse_endpoint("http://127.0.0.1:1/dev");
  ASSERT_TRUE(ep);
  for (const std::string& id :
       {std::string(""), std::string("a b"), std::string("a\r\nX: y"), std::string("a%3D"), std::string(129, 'a')}) {
    auto r = build_request(*ep, "POST", id, "x");
    ASSERT_FALSE(r) << id;
    EXPECT_TRUE(r.error() == error::invalid_connection_id);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  auto big = build_request(*ep, "POST", "abc=", std::string(k_max_message_bytes + 1, 'x'));
  ASSERT_FALSE(big);
  EXPECT_TRUE(big.error() == error::payload_too_large);
  EXPECT_TRUE(big.error() == condition::payload_too_large);
  EXPECT_NE(big.error().message.find("131073 bytes"), std::string::npos) << big.error().message;
  EXPECT_TRUE(build_request(*ep, "POST", "abc=", std::string(k_max_message_bytes, 'x')));
}

TEST(mgmt_signing, region_from_config_then_host_and_required_with_credentials) {
  auto aws = parse_endpoint("https://abc.execute-api.ap-south-1.amazonaws.com/prod").value();
  auto local = parse_endpoint("http://127.0.0.1:9/dev").value();
  signing_config none;
  signing_config with_creds;
  with_creds.credentials = sigv4::credentials{"AKID", "secret", ""};
  EXPECT_EQ(signing_region(aws, none).value(), "ap-south-1");
  EXPECT_EQ(signing_region(local, none).value(), "");
  EXPECT_FALSE(signing_region(local, with_creds));
  with_creds.region = "us-west-2";
  EXPECT_EQ(signing_region(local, with_creds).value(), "us-west-2");
  EXPECT_EQ(signing_region(aws, with_creds).value(), "us-west-2");
}

TEST(mgmt_signing, unsigned_without_credentials) {
  auto ep = parse_endpoint("http://127.0.0.1:9/dev").value();
  auto req = build_request(ep, "POST", "abc=", "x").value();
  ASSERT_TRUE(sign_request(req, signing_config{}, "", clock::time_point{}));
  EXPECT_EQ(req.headers.size(), 1U);  // Host only
}

TEST(mgmt_get_connection, parses_the_model_shape) {
  auto info = parse_connection_info(
      R"({"connectedAt":"2025-03-05T10:00:00.120Z","identity":{"sourceIp":"203.0.113.7","userAgent":""},)"
      R"("lastActiveAt":"2025-03-05T10:00:05.456Z"})");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(format_iso8601(info->connected_at), "2025-03-05T10:00:00.120Z");
  EXPECT_EQ(format_iso8601(info->last_active_at), "2025-03-05T10:00:05.456Z");
  EXPECT_EQ(info->identity.source_ip, "203.0.113.7");
  EXPECT_EQ(info->identity.user_agent, "");
  EXPECT_FALSE(parse_connection_info("not json"));
  EXPECT_FALSE(parse_connection_info(R"({"identity":{}})"));
  EXPECT_TRUE(parse_connection_info(R"({"connectedAt":12})").error() == error::bad_response);
}

TEST(mgmt_get_connection, iso8601_forms) {
  EXPECT_EQ(unix_millis(parse_iso8601("1970-01-01T00:00:00Z").value()), 0);
  EXPECT_EQ(unix_millis(parse_iso8601("1970-01-01T00:00:01.5Z").value()), 1500);
  EXPECT_EQ(unix_millis(parse_iso8601("1970-01-01T01:00:00+01:00").value()), 0);
  EXPECT_EQ(format_iso8601(parse_iso8601("2024-02-29T23:59:59.999Z").value()), "2024-02-29T23:59:59.999Z");
  for (const char* bad : {"2025-02-30T00:00:00Z", "2025-03-05 10:00:00", "2025-03-05T10:00:00", "yesterday",
                          "2025-03-05T10:00:00.Z", "2025-03-05T10:00:00Zjunk"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

}  // namespace
}  // namespace apigw::mgmt
