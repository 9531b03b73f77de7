// Fuzz target: Management API responses (from AWS, or from whatever answers at an endpoint): the
// error type, the failure built from them (Management API and control plane), and GetConnection's
// JSON. Must never crash.
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/mgmt/management_client.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  net::http_response resp;
  resp.status = size > 0 ? 400U + static_cast<unsigned>(data[0]) % 200U : 410U;
  if (nl != std::string_view::npos) {
    resp.headers.push_back({"x-amzn-ErrorType", std::string(in.substr(0, nl))});
    resp.body = std::string(in.substr(nl + 1));
  } else {
    resp.body = std::string(in);
  }
  (void)mgmt::error_type_of(resp);
  (void)mgmt::error_from_response(resp, "PostToConnection", "abc=");
  (void)mgmt::control_plane_error_from_response(resp, "CreateRoute");
  (void)mgmt::parse_connection_info(resp.body);
  return 0;
}
