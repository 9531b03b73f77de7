// Fuzz target: control-plane JSON (apigatewayv2 requests) and the state file. Input: method \n
// target \n body. Must never crash; whatever the model accepts must build and reload.
#include "gateway/control_plane.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  std::string_view rest = in;
  for (int i = 0; i < 2; ++i) {
    const auto nl = rest.find('\n');
    parts[i] = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  parts[2] = rest;
  const clock::time_point now{std::chrono::seconds{1'700'000'000}};
  gateway::detail::control_plane cp{gateway::default_dev_config(), now};
  (void)cp.handle(parts[0], parts[1].starts_with("/v2/") ? parts[1] : std::string_view("/v2/apis"), parts[2], now);
  (void)cp.build();
  gateway::detail::control_plane again{gateway::gateway_config{}, now};
  if (!again.load(cp.save())) std::abort();
  (void)again.load(parts[2]);                     // the body as a state file
  (void)gateway::parse_gateway_config(parts[2]);  // and as a config file
  return 0;
}
