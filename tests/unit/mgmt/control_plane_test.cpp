// Unit tests of the apigatewayv2 control-plane client's pure parts: error mapping (type and message
// kept), endpoints and region checks.
#include "apigw/mgmt/control_plane.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace apigw::mgmt {
namespace {

net::http_response error_response(unsigned status, std::string type, std::string body) {
  net::http_response r;
  r.status = status;
  if (!type.empty()) r.headers.push_back({"x-amzn-ErrorType", std::move(type)});
  r.body = std::move(body);
  return r;
}

TEST(ControlPlaneErrors, KeepTypeAndMessageAndMapOntoConditions) {
  auto f = control_plane_error_from_response(
      error_response(409, "ConflictException", R"({"message":"Route key chat already exists"})"), "CreateRoute");
  EXPECT_EQ(f.code, error::conflict);
  EXPECT_EQ(f, condition::conflict);
  EXPECT_EQ(f.message, "CreateRoute: HTTP 409 ConflictException: Route key chat already exists");

  f = control_plane_error_from_response(
      error_response(404, "NotFoundException:http://internal.amazon.com/", R"({"message":"Invalid API identifier"})"),
      "GetApi");
  EXPECT_EQ(f, condition::not_found);
  EXPECT_EQ(f.message, "GetApi: HTTP 404 NotFoundException: Invalid API identifier");

  EXPECT_EQ(control_plane_error_from_response(error_response(429, "TooManyRequestsException", "{}"), "X").code,
            error::limit_exceeded);
  EXPECT_EQ(control_plane_error_from_response(error_response(400, "BadRequestException", "{}"), "X").code,
            error::bad_request);
  EXPECT_EQ(control_plane_error_from_response(error_response(403, "AccessDeniedException", "{}"), "X").code,
            error::forbidden);
  // No type header: the body's __type, else the status decides.
  EXPECT_EQ(control_plane_error_from_response(error_response(400, "", R"({"__type":"x#NotFoundException"})"), "X").code,
            error::not_found);
  EXPECT_EQ(control_plane_error_from_response(error_response(409, "", ""), "X").code, error::conflict);
  EXPECT_EQ(control_plane_error_from_response(error_response(503, "", "busy"), "X").code, error::server_error);
  EXPECT_EQ(control_plane_error_from_response(error_response(503, "", "busy"), "X").message, "X: HTTP 503: busy");
}

TEST(ControlPlaneClient, EndpointAndRegion) {
  EXPECT_EQ(default_control_plane_endpoint("eu-west-1"), "https://apigateway.eu-west-1.amazonaws.com");
  boost::asio::io_context io;
  net::http_client_pool pool(io.get_executor());
  control_plane_options signed_opts;
  signed_opts.signing.credentials = sigv4::credentials{"AKIDEXAMPLE", "secret", ""};
  auto aws = control_plane_client::create(pool, "https://apigateway.eu-west-1.amazonaws.com", signed_opts);
  ASSERT_TRUE(aws);
  EXPECT_EQ(aws->region(), "eu-west-1");
  auto local = control_plane_client::create(pool, "http://127.0.0.1:4510", signed_opts);
  ASSERT_FALSE(local);
  EXPECT_EQ(local.error().code, error::invalid_endpoint);
  EXPECT_TRUE(control_plane_client::create(pool, "http://127.0.0.1:4510"));
  EXPECT_FALSE(control_plane_client::create(pool, "not a url"));
  EXPECT_EQ(control_plane_client::encode_label("arn:aws:apigateway:us-east-1::/apis/abc"),
            "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc");
}

TEST(ControlPlaneClient, RetryPausesDoubleAndDomainOperationsWaitTheirQuota) {
  using std::chrono::milliseconds;
  const control_plane_options opts;  // 1 s doubled; domain operations at least 30 s
  EXPECT_EQ(retry_pause(opts, "CreateRoute", 0), milliseconds(1000));
  EXPECT_EQ(retry_pause(opts, "CreateRoute", 3), milliseconds(8000));
  // AWS allows one CreateDomainName, UpdateDomainName or DeleteDomainName per 30 s per account.
  for (std::string_view op : {"CreateDomainName", "UpdateDomainName", "DeleteDomainName"}) {
    EXPECT_EQ(retry_pause(opts, op, 0), milliseconds(30000)) << op;
    EXPECT_EQ(retry_pause(opts, op, 5), milliseconds(32000)) << op;
  }
  EXPECT_EQ(retry_pause(opts, "CreateApiMapping", 0), milliseconds(1000));
  control_plane_options fast;
  fast.throttle_pause = milliseconds(10);
  fast.domain_pause = milliseconds(25);
  EXPECT_EQ(retry_pause(fast, "CreateDomainName", 0), milliseconds(25));
  EXPECT_EQ(retry_pause(fast, "CreateDomainName", 2), milliseconds(40));
}

}  // namespace
}  // namespace apigw::mgmt
